package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/sgl-project/sglang-router-go/go/router"
	"github.com/sgl-project/sglang-router-go/go/worker"
)

// maxPendingAdds bounds the adds that wait for a worker's health at once:
// each holds a goroutine and polls the worker for up to the startup
// timeout, so an admin route hammered with adds of dead URLs must not grow
// without bound.
const maxPendingAdds = 64

// AddWorker adds the worker spec describes to its pool. It is the one way a
// worker joins after startup: the /add_worker route, the C API (Python's
// Router.add_worker) and Kubernetes discovery all come here, with a Spec
// made by worker.ParseSpec. Safe for concurrent use.
//
// Errors carry the worker package's classes: ErrInvalidSpec (no pool for
// the role in this mode, or the URL is this router's own address),
// ErrExists (in any pool), ErrNotReady (with how == WhenHealthy: the host
// does not resolve, or /health did not answer 2xx within the startup
// timeout), ErrBusy (too many adds waiting); or ctx's error when the
// caller gave up.
func (a *App) AddWorker(ctx context.Context, spec worker.Spec, how worker.Admission) error {
	pool, err := a.poolFor(spec.Role)
	if err != nil {
		return err
	}
	if spec.Model != "" {
		if err := worker.CheckModelName(spec.Model); err != nil {
			return err
		}
	}
	if err := a.absent(spec.URL); err != nil {
		return err
	}
	if err := a.checkReachable(ctx, spec.URL, how); err != nil {
		return err
	}
	if how == worker.WhenHealthy {
		if err := a.waitHealthy(ctx, spec.URL); err != nil {
			return err
		}
	}
	w := a.newWorker(spec)
	if how == worker.WhenHealthy && w.ModelPending() {
		a.learnModel(ctx, w) // routable at once; else the health checks retry
	}
	w.SetHealthy(how != worker.AfterCheck)
	if err := a.addOnce(pool, w); err != nil {
		return err
	}
	if how == worker.Vouched && w.ModelPending() { // learnt now, not at the next health check
		a.goRun("learn the model of "+w.URL(), func(ctx context.Context) { a.learnModel(ctx, w) })
	}
	a.log.Info("worker added", zap.String("worker", spec.URL), zap.String("role", spec.Role.String()),
		zap.Bool("healthy", w.Healthy()))
	return nil
}

// RemoveWorker removes the worker rawURL names (any spelling of it) from
// whichever pool holds it; the pool's listeners drop its policy state and
// metrics. Errors: worker.ErrInvalidSpec, worker.ErrNotFound.
func (a *App) RemoveWorker(rawURL string) error {
	url, err := worker.NormalizeURL(rawURL)
	if err != nil {
		return err
	}
	for _, p := range a.pools {
		if _, err := p.Registry.Remove(url); err == nil {
			a.log.Info("worker removed", zap.String("worker", url), zap.String("role", p.Role.String()))
			return nil
		}
	}
	return fmt.Errorf("%w: %s", worker.ErrNotFound, url)
}

// ListWorkers is the body of /list_workers.
func (a *App) ListWorkers() map[string][]string { return a.router.ListWorkers() }

// poolFor returns the pool that holds workers of role in this mode.
func (a *App) poolFor(role worker.Role) (*router.Pool, error) {
	for _, p := range a.pools {
		if p.Role == role {
			return p, nil
		}
	}
	if a.cfg.PDDisaggregation {
		return nil, fmt.Errorf("%w: in PD mode a worker needs role prefill or decode", worker.ErrInvalidSpec)
	}
	return nil, fmt.Errorf("%w: role %s needs PD mode (--pd-disaggregation)", worker.ErrInvalidSpec, role)
}

// absent reports ErrExists when any pool holds url: one server is one worker.
func (a *App) absent(url string) error {
	for _, p := range a.pools {
		if p.Registry.Get(url) != nil {
			return fmt.Errorf("%w: %s (a %s worker)", worker.ErrExists, url, p.Role)
		}
	}
	return nil
}

// addOnce adds w to pool unless some pool holds its URL by now (another
// add may have won while this one waited for the worker's health).
func (a *App) addOnce(pool *router.Pool, w *worker.Worker) error {
	a.addMu.Lock()
	defer a.addMu.Unlock()
	if err := a.absent(w.URL()); err != nil {
		return err
	}
	return pool.Registry.Add(w) // cannot fail: absent checked every pool under addMu
}

// waitHealthy polls url's health endpoint (health_check_endpoint: what the
// checker probes) every worker_startup_check_interval until it answers 2xx,
// the startup timeout passes (ErrNotReady), ctx ends or the app stops. At
// most maxPendingAdds wait at once (ErrBusy).
func (a *App) waitHealthy(ctx context.Context, url string) error {
	select {
	case a.pendingAdds <- struct{}{}:
		defer func() { <-a.pendingAdds }()
	default:
		return fmt.Errorf("%w (%d); try again later", worker.ErrBusy, maxPendingAdds)
	}
	timeout := secs(a.cfg.WorkerStartupTimeoutSecs)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	defer context.AfterFunc(a.ctx, cancel)() // shutdown ends the wait
	tick := time.NewTicker(secs(a.cfg.WorkerStartupCheckInterval))
	defer tick.Stop()
	probe := a.checker.HealthURL(url)
	a.log.Info("waiting for a new worker to become healthy", zap.String("worker", url), zap.Duration("timeout", timeout))
	for {
		if worker.Probe(ctx, a.client, probe, a.checker.Timeout) {
			return nil
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) && a.ctx.Err() == nil {
				return fmt.Errorf("%w: %s did not become healthy: %s did not answer 2xx within %s",
					worker.ErrNotReady, url, probe, timeout)
			}
			return fmt.Errorf("adding %s: %w", url, context.Canceled)
		case <-tick.C:
		}
	}
}
