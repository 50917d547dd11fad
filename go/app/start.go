package app

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/sgl-project/sglang-router-go/go/config"
	"github.com/sgl-project/sglang-router-go/go/discovery"
	"github.com/sgl-project/sglang-router-go/go/h1"
	"github.com/sgl-project/sglang-router-go/go/policy"
	"github.com/sgl-project/sglang-router-go/go/router"
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
	if err := a.refuseSelf(); err != nil {
		_ = ln.Close()
		a.cancel()
		_ = a.closeLog()
		return err
	}
	a.srv = a.newServer(a.counted(a.router))
	a.front = a.newFront(a.srv)
	a.serve(ln)
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

// maxHeaderBytes limits a request's headers; net/http answers 431 past it.
const maxHeaderBytes = 64 << 10

func (a *App) newServer(h http.Handler) *http.Server {
	// net/http's own complaints are warnings; raising the level of a logger
	// already above warn fails (and zap says so in plain text), so only raise it.
	errLog := a.log
	if a.log.Core().Enabled(zap.InfoLevel) {
		errLog = a.log.WithOptions(zap.IncreaseLevel(zap.WarnLevel))
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: secs(a.cfg.HeaderReadTimeoutSecs),
		MaxHeaderBytes:    maxHeaderBytes,
		IdleTimeout:       5 * time.Minute,
		ErrorLog:          zap.NewStdLog(errLog),
	}
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true) // cleartext HTTP/2 (h2c prior knowledge) welcome
	return srv
}

// newFront is the router's own HTTP/1.1 server (see package h1): it serves
// fallback's handler and hands fallback what it does not serve itself
// (h2c, upgrades), with the same bounds.
func (a *App) newFront(fallback *http.Server) *h1.Server {
	return &h1.Server{
		Handler:           fallback.Handler,
		Fallback:          fallback,
		ReadHeaderTimeout: fallback.ReadHeaderTimeout,
		IdleTimeout:       fallback.IdleTimeout,
		MaxHeaderBytes:    fallback.MaxHeaderBytes,
		ErrorLog:          fallback.ErrorLog,
	}
}

// serve runs a.front on ln until Shutdown; an unexpected serve error is
// fatal. Its requests' contexts derive from a.requests (see cutRequests).
func (a *App) serve(ln net.Listener) {
	a.requests, a.endRequests = context.WithCancelCause(context.Background())
	base := func(net.Listener) context.Context { return a.requests }
	a.srv.BaseContext, a.front.BaseContext = base, base
	go func() {
		if err := a.front.Serve(ln); err != nil && err != http.ErrServerClosed {
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
	if a.cfg.AdminAPIKey == "" {
		a.log.Warn("admin routes are open: anyone who can reach the router can add and remove workers, list them and flush their caches; set --admin-api-key (or "+config.EnvAdminAPIKey+")",
			zap.Strings("routes", []string{"/add_worker", "/remove_worker", "/flush_cache", "/list_workers", "/get_loads"}))
	}
	for _, p := range a.pools {
		for _, w := range p.Registry.Snapshot() {
			a.log.Info("worker configured; waiting for it to become healthy", zap.String("worker", w.URL()), zap.String("role", w.Role().String()))
		}
	}
}

// startBackground starts health checks, stall detection, the startup watchdog, policy upkeep
// and load polling (power_of_two, cache_aware). State gauges are computed at each scrape
// (sampleGauges), not by a ticker.
func (a *App) startBackground() {
	regs := a.registries()
	a.goRun("health", func(ctx context.Context) { a.checker.Run(ctx, regs...) })
	a.goRun("stall detection", func(ctx context.Context) { a.stalls.Run(ctx, regs...) })
	a.goRun("startup", a.watchStartup)
	if len(a.dpStatic) > 0 {
		a.goRun("dp_aware workers", a.addDPStatic)
	}
	for _, p := range a.pools {
		if bg, ok := p.Policy.(policy.Background); ok {
			a.goRun("policy "+p.Policy.Name(), bg.Run)
		}
		if iv := a.loadPollInterval(p.Policy.Name()); iv > 0 {
			a.goRun("load poll", func(ctx context.Context) {
				every(ctx, iv, func() {
					worker.PollLoads(ctx, a.client, nil, min(a.checker.Timeout, max(iv, time.Second)), p.Registry)
				})
			})
		}
	}
	if a.cfg.ServiceDiscovery {
		d := discovery.New(discovery.FromConfig(a.cfg), a, a.log, a.metrics)
		a.goRun("service discovery", d.Run)
	}
}

// loadPollInterval is how often a pool with the named policy reads its
// workers' /get_load: power_of_two picks by it at the health-check pace;
// cache_aware judges overload by it (--load-poll-interval-ms); 0: never.
func (a *App) loadPollInterval(policyName string) time.Duration {
	switch policyName {
	case config.PolicyPowerOfTwo:
		return a.checker.Interval
	case config.PolicyCacheAware:
		return time.Duration(a.cfg.LoadPollIntervalMs) * time.Millisecond
	}
	return 0
}

func (a *App) registries() []*worker.Registry {
	regs := make([]*worker.Registry, len(a.pools))
	for i, p := range a.pools {
		regs[i] = p.Registry
	}
	return regs
}

// watchStartup follows the statically configured workers until all are
// healthy or the startup timeout passes: it reports at once the hosts that
// do not resolve, logs "still waiting for N workers: ..." every
// worker_startup_check_interval, and fails the app if, by the timeout, none ever became healthy.
// With service discovery the router keeps serving whatever happens: pods
// bring workers. An unresolvable host does not fail startup early, even
// when no host resolves: a Kubernetes Service's DNS name appears only once
// its pods are ready, which may be after the router started, and the
// startup timeout is how long the user said to wait.
func (a *App) watchStartup(ctx context.Context) {
	var static []*worker.Worker
	for _, p := range a.pools {
		static = append(static, p.Registry.Snapshot()...)
	}
	if len(static) == 0 {
		return
	}
	a.goRun("resolve workers", func(ctx context.Context) { a.reportUnresolvable(ctx, static) })
	deadline := time.NewTimer(secs(a.cfg.WorkerStartupTimeoutSecs))
	defer deadline.Stop()
	poll := time.NewTicker(50 * time.Millisecond)
	defer poll.Stop()
	report := time.NewTicker(secs(a.cfg.WorkerStartupCheckInterval))
	defer report.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
			if len(a.pending(static)) == 0 {
				return
			}
		case <-report.C:
			if pending := a.pending(static); len(pending) > 0 {
				a.log.Info(fmt.Sprintf("still waiting for %d workers: %s", len(pending), strings.Join(pending, ", ")))
			}
		case <-deadline.C:
			if !a.cfg.ServiceDiscovery && !a.everHealthy.Load() && !anyHealthy(static) {
				a.fail(classed(ClassStartupTimeout, "no worker became healthy within %ds; unreachable: %s",
					a.cfg.WorkerStartupTimeoutSecs, strings.Join(urls(static), ", ")))
			} else if pending := a.pending(static); len(pending) > 0 {
				a.log.Warn(fmt.Sprintf("startup timeout passed with %d workers not healthy: %s; serving the others, health checks keep trying",
					len(pending), strings.Join(pending, ", ")))
			}
			return
		}
	}
}

// pending lists the URLs of the static workers still configured and not
// healthy.
func (a *App) pending(static []*worker.Worker) []string {
	var out []string
	for _, w := range static {
		if !w.Healthy() && a.holds(w) {
			out = append(out, w.URL())
		}
	}
	return out
}

// holds reports whether w is still in its pool (not removed by hand).
func (a *App) holds(w *worker.Worker) bool {
	for _, p := range a.pools {
		if p.Registry.Get(w.URL()) == w {
			return true
		}
	}
	return false
}

// reportUnresolvable looks up every static worker's host name at once and
// logs those that do not resolve, so a typo shows at startup rather than
// after the startup timeout. A name that resolves to this router's own
// address is removed: it would forward requests to itself.
func (a *App) reportUnresolvable(ctx context.Context, static []*worker.Worker) {
	var wg sync.WaitGroup
	for _, w := range static {
		wg.Add(1)
		go func() {
			defer wg.Done()
			host, port, err := worker.HostPort(w.BaseURL())
			if err != nil {
				return
			}
			addrs, err := a.resolve(ctx, host)
			switch {
			case err != nil:
				a.log.Warn("worker host does not resolve; health checks keep trying until the startup timeout",
					zap.String("worker", w.URL()), zap.Error(err))
			case a.isSelf(addrs, port):
				a.log.Error("worker refused: its host resolves to this router's own address; it would send requests to itself",
					zap.String("worker", w.URL()), zap.String("address", a.Addr()))
				_ = a.RemoveWorker(w.BaseURL())
			}
		}()
	}
	wg.Wait()
}

// refuseSelf fails startup when a static worker's URL is this router's
// listen address by IP or localhost (names are checked once resolved, in
// reportUnresolvable).
func (a *App) refuseSelf() error {
	for _, p := range a.pools {
		for _, w := range p.Registry.Snapshot() {
			host, port, err := worker.HostPort(w.BaseURL())
			if err != nil || !literalHost(host) {
				continue
			}
			if addrs, _ := a.resolve(a.ctx, host); a.isSelf(addrs, port) {
				return classed(ClassConfig, "%s: %s is this router's own address (it listens on %s); it would send requests to itself",
					configField(p.Role), w.URL(), a.Addr())
			}
		}
	}
	return nil
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
// tree has not seen yet), and whether some cache_aware policy takes the router to be alone. It runs before every scrape and is safe for
// concurrent use: each gauge is set atomically.
func (a *App) sampleGauges() {
	now := time.Now()
	active, maxL, minL := 0, int64(0), int64(-1)
	alone := false
	for _, p := range a.pools {
		for _, pol := range p.Policies() {
			if s, ok := pol.(policy.Soloist); ok && s.Alone() {
				alone = true
			}
		}
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
		a.sampleTreeSizes(p)
	}
	a.metrics.SetActiveWorkers(active)
	a.metrics.SetLoadRange(maxL, max(minL, 0))
	a.metrics.SetCacheAwareAlone(alone)
}

// sampleTreeSizes sets each worker's tree-size gauge from the trees of
// every policy of pool p (one per model: a worker is in its model's).
func (a *App) sampleTreeSizes(p *router.Pool) {
	sizes := map[string]int{}
	found := false
	for _, pol := range p.Policies() {
		if ts, ok := pol.(policy.TreeSizer); ok {
			found = true
			for url, n := range ts.TreeSizes() {
				sizes[url] += n
			}
		}
	}
	if !found {
		return
	}
	for _, w := range p.Registry.Snapshot() {
		a.metrics.SetTreeSize(w.URL(), sizes[w.URL()])
	}
}
