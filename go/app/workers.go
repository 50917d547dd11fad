package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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
	// dp_aware learns the ranks from the server itself, so it must be up.
	if how == worker.WhenHealthy || a.cfg.DPAware {
		if err := a.waitHealthy(ctx, spec.URL); err != nil {
			return err
		}
	}
	ws, err := a.unitsOf(ctx, spec)
	if err != nil {
		return err
	}
	if how == worker.WhenHealthy && ws[0].ModelPending() {
		a.learnModel(ctx, ws) // routable at once; else the health checks retry
	}
	for _, w := range ws {
		w.SetHealthy(how != worker.AfterCheck)
	}
	if err := a.addOnce(pool, ws); err != nil {
		return err
	}
	if how == worker.Vouched && ws[0].ModelPending() { // learnt now, not at the next health check
		a.goRun("learn the model of "+spec.URL, func(ctx context.Context) { a.learnModel(ctx, ws) })
	}
	a.log.Info("worker added", zap.String("worker", spec.URL), zap.String("role", spec.Role.String()),
		zap.Int("dp_ranks", len(ws)), zap.Bool("healthy", ws[0].Healthy()))
	return nil
}

// unitsOf makes the routable units of the server spec names: the server
// itself, or with dp_aware one worker per data-parallel rank, its dp_size
// asked from the server (ErrNotReady when it cannot say).
func (a *App) unitsOf(ctx context.Context, spec worker.Spec) ([]*worker.Worker, error) {
	if !a.cfg.DPAware {
		return []*worker.Worker{a.newWorker(spec)}, nil
	}
	var header http.Header
	if a.cfg.APIKey != "" {
		header = http.Header{"Authorization": {"Bearer " + a.cfg.APIKey}}
	}
	size, err := worker.FetchDPSize(ctx, a.client, spec.URL, header, a.checker.Timeout)
	if err != nil {
		return nil, fmt.Errorf("%w: dp_aware: %v", worker.ErrNotReady, err)
	}
	ws := make([]*worker.Worker, size)
	for r := range size {
		ws[r] = a.equip(spec, worker.NewRank(spec.URL, r, size, spec.Role, spec.BootstrapPort))
	}
	return ws, nil
}

// RemoveWorker removes the worker rawURL names (any spelling of it), with
// all its data-parallel ranks, from whichever pool holds it; the pool's listeners drop its policy state and
// metrics. Errors: worker.ErrInvalidSpec, worker.ErrNotFound.
func (a *App) RemoveWorker(rawURL string) error {
	url, err := worker.NormalizeURL(rawURL)
	if err != nil {
		return err
	}
	for _, p := range a.pools {
		if ws, err := p.Registry.RemoveServer(url); err == nil {
			a.log.Info("worker removed", zap.String("worker", url), zap.String("role", p.Role.String()), zap.Int("units", len(ws)))
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

// absent reports ErrExists when any pool holds url (or a rank of it): one
// server is one worker.
func (a *App) absent(url string) error {
	for _, p := range a.pools {
		if p.Registry.HasServer(url) {
			return fmt.Errorf("%w: %s (a %s worker)", worker.ErrExists, url, p.Role)
		}
	}
	return nil
}

// addOnce adds the units of one server (itself, or its ranks) to pool
// unless some pool holds the server by now (another add may have won
// while this one waited for the worker's health).
func (a *App) addOnce(pool *router.Pool, ws []*worker.Worker) error {
	a.addMu.Lock()
	defer a.addMu.Unlock()
	if err := a.absent(ws[0].BaseURL()); err != nil {
		return err
	}
	for _, w := range ws {
		if err := pool.Registry.Add(w); err != nil { // cannot fail: absent checked every pool under addMu
			return err
		}
	}
	return nil
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
