package app

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/sgl-project/sglang-router-go/go/config"
	"github.com/sgl-project/sglang-router-go/go/discovery"
	"github.com/sgl-project/sglang-router-go/go/policy"
	"github.com/sgl-project/sglang-router-go/go/worker"
)

// Start binds the router's listener (an error of class ClassBind if it
// cannot) and the metrics listener (a warning if it cannot), then serves and
// runs health checks in the background. It returns at once: the router
// listens before any worker is healthy.
func (a *App) Start() error {
	ln, err := net.Listen("tcp", net.JoinHostPort(a.cfg.Host, strconv.Itoa(a.cfg.Port)))
	if err != nil {
		a.cancel()
		_ = a.closeLog()
		return classed(ClassBind, "cannot listen on %s:%d: %v", a.cfg.Host, a.cfg.Port, err)
	}
	a.ln = ln
	a.srv = a.newServer(a.counted(a.router))
	a.serve(a.srv, ln)
	a.startMetrics()
	a.logStartup()
	a.startBackground()
	return nil
}

// counted keeps a.inflight: the requests h is serving, for a graceful stop
// to report what it waits for.
func (a *App) counted(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.inflight.Add(1)
		defer a.inflight.Add(-1)
		h.ServeHTTP(w, r)
	})
}

func (a *App) newServer(h http.Handler) *http.Server {
	// net/http's own complaints are warnings; raising the level of a logger
	// already above warn fails (and zap says so in plain text), so only raise it.
	errLog := a.log
	if a.log.Core().Enabled(zap.InfoLevel) {
		errLog = a.log.WithOptions(zap.IncreaseLevel(zap.WarnLevel))
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       5 * time.Minute,
		ErrorLog:          zap.NewStdLog(errLog),
	}
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true) // cleartext HTTP/2 (h2c prior knowledge) welcome
	return srv
}

// serve runs srv on ln until Shutdown; an unexpected serve error is fatal.
// Its requests' contexts derive from a.requests (see cutRequests).
func (a *App) serve(srv *http.Server, ln net.Listener) {
	a.requests, a.endRequests = context.WithCancelCause(context.Background())
	srv.BaseContext = func(net.Listener) context.Context { return a.requests }
	go func() {
		if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
			a.fail(fmt.Errorf("serving %s: %w", ln.Addr(), err))
		}
	}()
}

func (a *App) startMetrics() {
	addr := net.JoinHostPort(a.cfg.PrometheusHost, strconv.Itoa(a.cfg.PrometheusPort))
	mln, err := net.Listen("tcp", addr)
	if err != nil {
		a.log.Warn("metrics listener not started; the router serves without /metrics", zap.String("address", addr), zap.Error(err))
		return
	}
	a.metrics.OnScrape(a.sampleGauges)
	mux := http.NewServeMux()
	mux.Handle("/metrics", a.metrics.Handler())
	a.mln, a.msrv = mln, a.newServer(mux)
	go func() { _ = a.msrv.Serve(mln) }()
}

func (a *App) logStartup() {
	mode := "regular"
	if a.cfg.PDDisaggregation {
		mode = "prefill/decode"
	}
	a.log.Info("router listening", zap.String("address", "http://"+a.Addr()), zap.String("mode", mode),
		zap.String("policy", a.cfg.Policy), zap.Bool("service_discovery", a.cfg.ServiceDiscovery))
	if a.mln != nil {
		a.log.Info("metrics listening", zap.String("address", "http://"+a.MetricsAddr()+"/metrics"))
	}
	for _, line := range a.cfg.Ignored() {
		a.log.Warn("option ignored", zap.String("reason", line))
	}
	for _, p := range a.pools {
		for _, w := range p.Registry.Snapshot() {
			a.log.Info("worker configured; waiting for it to become healthy", zap.String("worker", w.URL()), zap.String("role", w.Role().String()))
		}
	}
}

// startBackground starts health checks, the startup watchdog, policy upkeep
// and load polling (power_of_two). State gauges are computed at each scrape
// (sampleGauges), not by a ticker.
func (a *App) startBackground() {
	regs := a.registries()
	a.goRun("health", func(ctx context.Context) { a.checker.Run(ctx, regs...) })
	a.goRun("startup", a.watchStartup)
	for _, p := range a.pools {
		if bg, ok := p.Policy.(policy.Background); ok {
			a.goRun("policy "+p.Policy.Name(), bg.Run)
		}
		if p.Policy.Name() == config.PolicyPowerOfTwo {
			a.goRun("load poll", func(ctx context.Context) {
				every(ctx, a.checker.Interval, func() {
					worker.PollLoads(ctx, a.client, nil, a.checker.Timeout, p.Registry)
				})
			})
		}
	}
	if a.cfg.ServiceDiscovery {
		d := discovery.New(discovery.FromConfig(a.cfg), a.router, a.log, a.metrics)
		a.goRun("service discovery", d.Run)
	}
}

func (a *App) registries() []*worker.Registry {
	regs := make([]*worker.Registry, len(a.pools))
	for i, p := range a.pools {
		regs[i] = p.Registry
	}
	return regs
}

// watchStartup fails the app if, after the startup timeout, no statically
// configured worker ever became healthy. With service discovery, or with no
// static workers, there is nothing to wait for: the router keeps serving.
func (a *App) watchStartup(ctx context.Context) {
	if a.cfg.ServiceDiscovery {
		return
	}
	var static []*worker.Worker
	for _, p := range a.pools {
		static = append(static, p.Registry.Snapshot()...)
	}
	if len(static) == 0 {
		return
	}
	deadline := time.NewTimer(secs(a.cfg.WorkerStartupTimeoutSecs))
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if anyHealthy(static) {
				return
			}
		case <-deadline.C:
			if anyHealthy(static) {
				return
			}
			a.fail(classed(ClassStartupTimeout, "no worker became healthy within %ds; unreachable: %s",
				a.cfg.WorkerStartupTimeoutSecs, strings.Join(urls(static), ", ")))
			return
		}
	}
}

func anyHealthy(ws []*worker.Worker) bool {
	for _, w := range ws {
		if w.Healthy() {
			return true
		}
	}
	return false
}

func urls(ws []*worker.Worker) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.URL()
	}
	return out
}

// sampleGauges refreshes the state gauges: active workers, load range,
// per-worker health, load, running requests, circuit state and tree size (0 for a worker the
// tree has not seen yet). It runs before every scrape and is safe for
// concurrent use: each gauge is set atomically.
func (a *App) sampleGauges() {
	now := time.Now()
	active, maxL, minL := 0, int64(0), int64(-1)
	for _, p := range a.pools {
		for _, w := range p.Registry.Snapshot() {
			load := w.Load()
			a.metrics.SetWorkerHealth(w.URL(), w.Healthy())
			a.metrics.SetWorkerLoad(w.URL(), load)
			a.metrics.SetRunning(w.URL(), load)
			a.metrics.SetCircuitState(w.URL(), w.CircuitState(now))
			if !w.Available(now) {
				continue
			}
			active++
			maxL = max(maxL, load)
			if minL < 0 || load < minL {
				minL = load
			}
		}
		if ts, ok := p.Policy.(policy.TreeSizer); ok {
			sizes := ts.TreeSizes()
			for _, w := range p.Registry.Snapshot() {
				a.metrics.SetTreeSize(w.URL(), sizes[w.URL()])
			}
		}
	}
	a.metrics.SetActiveWorkers(active)
	a.metrics.SetLoadRange(maxL, max(minL, 0))
}
