package app

import (
	"context"
	"net/http"

	"go.uber.org/zap"

	"github.com/sgl-project/sglang-router-go/go/worker"
)

// givenModel is the model the operator gave for spec's worker: its
// Spec.Model (a Kubernetes annotation), else worker_models (keys in any
// spelling of the URL), else "".
func (a *App) givenModel(spec worker.Spec) string {
	if spec.Model != "" {
		return spec.Model
	}
	for raw, model := range a.cfg.WorkerModels {
		if u, err := worker.NormalizeURL(raw); err == nil && u == spec.URL {
			return model
		}
	}
	return ""
}

// learnModel asks the server of ws (a whole server, or its data-parallel
// ranks) which model it serves, and gives it to each (the health checker
// calls it after each passing probe until it succeeds: a new worker, or
// one back from being down, which may serve another model now). A worker
// never learned is not routed to until then; one back from down keeps its
// model if asking fails. The first failure is logged as a warning, later
// ones at debug level.
func (a *App) learnModel(ctx context.Context, ws []*worker.Worker) {
	base := ws[0].BaseURL()
	model, err := worker.FetchModel(ctx, a.client, base, a.workerHeader(), a.checker.Timeout)
	if err != nil {
		if ctx.Err() != nil {
			return // shutting down (or the caller left): says nothing about the worker
		}
		if _, warned := a.modelWarned.LoadOrStore(base, true); !warned {
			a.log.Warn("cannot learn the worker's model: not routed to until it names one (or set --worker-models)",
				zap.String("worker", base), zap.Error(err))
		} else if ce := a.log.Check(zap.DebugLevel, "worker model still unknown"); ce != nil {
			ce.Write(zap.String("worker", base), zap.Error(err))
		}
		return
	}
	if old := ws[0].Model(); old != model {
		a.log.Info("worker model learned", zap.String("worker", base), zap.String("model", model), zap.String("before", old))
	}
	for _, w := range ws {
		w.SetModel(model)
	}
	a.modelWarned.Delete(base)
}

// workerHeader is what the router's own calls to workers carry: its API
// key, if one is set.
func (a *App) workerHeader() http.Header {
	if a.cfg.APIKey == "" {
		return nil
	}
	return http.Header{"Authorization": {"Bearer " + a.cfg.APIKey}}
}
