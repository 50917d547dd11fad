// Package app is the composition root: it turns a config.Config into a
// running router (logger, metrics, registries, policies, router, health
// checks, HTTP servers) and owns every goroutine it starts. It is the only
// package that knows all the others; capi and cmd drive it.
package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/sgl-project/sglang-router-go/go/config"
	"github.com/sgl-project/sglang-router-go/go/h1"
	"github.com/sgl-project/sglang-router-go/go/metrics"
	"github.com/sgl-project/sglang-router-go/go/policy"
	"github.com/sgl-project/sglang-router-go/go/proxy"
	"github.com/sgl-project/sglang-router-go/go/router"
	"github.com/sgl-project/sglang-router-go/go/upstream"
	"github.com/sgl-project/sglang-router-go/go/worker"
)

// Error classes that cross the C boundary (see go/capi).
const (
	ClassConfig         = "config"
	ClassBind           = "bind"
	ClassStartupTimeout = "startup_timeout"
)

// Error is an error with a class; its message is the cause's, unprefixed,
// so users read exactly what went wrong.
type Error struct {
	Class string
	Err   error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func classed(class string, format string, args ...any) error {
	return &Error{Class: class, Err: fmt.Errorf(format, args...)}
}

// App is one router. Start it once; Shutdown ends it.
type App struct {
	cfg      config.Config
	log      *zap.Logger
	closeLog func() error
	metrics  *metrics.Metrics
	client   *http.Client
	plain    *upstream.Client // forwards to http:// workers
	pools    []*router.Pool
	router   *router.Router
	checker  *worker.Checker
	stalls   *worker.Stalls
	inflight atomic.Int64 // requests being served (every route)
	// pendingAdds holds a token per add waiting for a worker's health.
	pendingAdds chan struct{}
	addMu       sync.Mutex  // makes an add's final check and insertion one step
	everHealthy atomic.Bool // a health check has passed on some worker
	modelWarned sync.Map    // server URL -> true once a failure to learn its model was logged
	// dpStatic are the configured workers whose ranks dp_aware learns
	// once each server answers (see addDPStatic); set by New only.
	dpStatic   []dpStaticWorker
	lookupHost func(ctx context.Context, host string) ([]netip.Addr, error)

	srv, msrv *http.Server // srv: the fallback of front (h2c, upgrades)
	front     *h1.Server
	ln, mln   net.Listener

	ctx    context.Context // cancelled by Shutdown; parent of every goroutine
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// requests is the base context of every request the router serves
	// (http.Server.BaseContext); endRequests cancels it with
	// router.ErrShutdown when the shutdown grace period runs out.
	requests    context.Context
	endRequests context.CancelCauseFunc

	doneOnce sync.Once
	done     chan struct{}
	errMu    sync.Mutex // guards err
	err      error
}

// Addr is the router's listening address (host:port).
func (a *App) Addr() string { return a.ln.Addr().String() }

// MetricsAddr is the metrics listener's address, or "" if it is not serving.
func (a *App) MetricsAddr() string {
	if a.mln == nil {
		return ""
	}
	return a.mln.Addr().String()
}

// InFlight is the number of requests the router is serving right now.
func (a *App) InFlight() int64 { return a.inflight.Load() }

// Abort closes every connection at once, cutting in-flight requests; a
// Shutdown in progress then returns promptly. It is the second Ctrl-C.
func (a *App) Abort() {
	if a.front != nil {
		_ = a.front.Close()
	}
}

// Router exposes the HTTP router (management calls).
func (a *App) Router() *router.Router { return a.router }

// Config returns the configuration the app runs with.
func (a *App) Config() config.Config { return a.cfg }

// Logger returns the app's logger.
func (a *App) Logger() *zap.Logger { return a.log }

// Done is closed when the app has stopped, by Shutdown or by a fatal error.
func (a *App) Done() <-chan struct{} { return a.done }

// Err is the fatal error that stopped the app, or nil.
func (a *App) Err() error {
	a.errMu.Lock()
	defer a.errMu.Unlock()
	return a.err
}

// fail records a fatal error and stops the app in the background.
func (a *App) fail(err error) {
	a.errMu.Lock()
	if a.err == nil {
		a.err = err
	}
	a.errMu.Unlock()
	a.log.Error("router stopping", zap.Error(err))
	go a.Shutdown(context.Background())
}

// Shutdown stops accepting requests, lets in-flight ones finish until ctx
// ends, then stops every goroutine. Safe to call more than once.
func (a *App) Shutdown(ctx context.Context) error {
	var err error
	a.doneOnce.Do(func() {
		err = a.front.Shutdown(ctx)
		if err != nil {
			a.cutRequests()
		}
		a.endRequests(router.ErrShutdown)
		if a.msrv != nil {
			_ = a.msrv.Close()
		}
		a.cancel()
		a.wg.Wait()
		a.client.CloseIdleConnections()
		a.plain.CloseIdleConnections()
		a.log.Info("router stopped")
		_ = a.log.Sync()
		_ = a.closeLog()
		close(a.done)
	})
	if errors.Is(err, context.DeadlineExceeded) {
		return nil // in-flight requests were cut at the end of the grace period, as asked
	}
	return err
}

// cutWait bounds how long requests cut at the end of the grace period
// have to write their final error, before every connection is closed.
const cutWait = 2 * time.Second

// cutRequests ends the requests still in flight when the grace period ran
// out. Cancelling their base context with router.ErrShutdown stops their
// worker requests, so each ends its answer with an error saying the router
// is shutting down (a stream gets a final SSE error event) before the
// connections are closed.
func (a *App) cutRequests() {
	a.endRequests(router.ErrShutdown)
	ctx, cancel := context.WithTimeout(context.Background(), cutWait)
	defer cancel()
	_ = a.front.Shutdown(ctx) // again: wait for the handlers to finish
	_ = a.front.Close()
}

// goRun starts f on a goroutine owned by the app: it gets the app's context,
// is waited for by Shutdown, and a panic in it is logged, not fatal.
func (a *App) goRun(name string, f func(ctx context.Context)) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer func() {
			if r := recover(); r != nil {
				a.log.Error("background task panicked", zap.String("task", name), zap.Any("panic", r), zap.Stack("stack"))
			}
		}()
		f(a.ctx)
	}()
}

// every runs f now and then every d until ctx ends.
func every(ctx context.Context, d time.Duration, f func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		f()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// newPolicy builds a policy with the config's cache-aware settings. The
// decode pool's round robin rotates, so PD pairs cover every combination.
func newPolicy(cfg config.Config, name string, obs policy.Observer, role worker.Role) (policy.Policy, error) {
	opts := policy.ConfigOptions(cfg)
	opts.RotateCycles, opts.Observer = role == worker.Decode, obs
	return policy.New(name, opts)
}

// newClient is the one HTTP client the app uses for workers (with the
// configured TLS settings for https:// workers).
func newClient(cfg config.Config) (*http.Client, error) {
	t := proxy.NewTransport()
	tlsCfg, err := workerTLS(cfg)
	if err != nil {
		return nil, err
	}
	t.TLSClientConfig = tlsCfg
	return &http.Client{Transport: t}, nil
}
