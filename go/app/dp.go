package app

import (
	"context"
	"errors"
	"strings"
	"sync"

	"go.uber.org/zap"

	"github.com/sgl-project/sglang-router-go/go/worker"
)

// dpStaticWorker is a configured worker whose data-parallel ranks are not
// known yet: field is the configuration key that lists it.
type dpStaticWorker struct {
	field string
	spec  worker.Spec
}

// addDPStatic adds the configured workers under dp_aware: each joins, with
// one worker per rank, once its /health answers and /get_server_info says
// its dp_size, within the startup timeout (the same wait as /add_worker).
// When none of them can be added the router fails with a startup-timeout
// error, as it does when no configured worker ever becomes healthy.
func (a *App) addDPStatic(ctx context.Context) {
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex // guards failed
		failed []string
	)
	for _, s := range a.dpStatic {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := a.AddWorker(ctx, s.spec, worker.WhenHealthy)
			if err == nil || errors.Is(err, worker.ErrExists) {
				return
			}
			a.log.Error("dp_aware: configured worker not added", zap.String("field", s.field),
				zap.String("worker", s.spec.URL), zap.Error(err))
			mu.Lock()
			failed = append(failed, s.spec.URL)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(failed) == len(a.dpStatic) && ctx.Err() == nil && !a.cfg.ServiceDiscovery {
		a.fail(classed(ClassStartupTimeout, "dp_aware: no configured worker could be added within %ds (healthy and reporting dp_size): %s",
			a.cfg.WorkerStartupTimeoutSecs, strings.Join(failed, ", ")))
	}
}
