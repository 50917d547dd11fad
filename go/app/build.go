package app

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/sgl-project/sglang-router-go/go/config"
	"github.com/sgl-project/sglang-router-go/go/logging"
	"github.com/sgl-project/sglang-router-go/go/metrics"
	"github.com/sgl-project/sglang-router-go/go/policy"
	"github.com/sgl-project/sglang-router-go/go/router"
	"github.com/sgl-project/sglang-router-go/go/upstream"
	"github.com/sgl-project/sglang-router-go/go/worker"
)

// Options adjust how an App is built without changing its configuration.
type Options struct {
	// Logging overrides the logger's console writer and clock (tests).
	Logging logging.Options
	// PolicyOverride, when set, replaces cfg.Policy for the regular pool
	// with any name policy.New knows, including ones not offered to users
	// (cache_aware_original, the original router's rule, for benchmarks).
	PolicyOverride string
	// LookupHost, when set, replaces the system resolver for worker host
	// names (tests give names chosen addresses).
	LookupHost func(ctx context.Context, host string) ([]netip.Addr, error)
}

// New validates cfg and builds the app; nothing listens until Start. A
// configuration error has class ClassConfig.
func New(cfg config.Config, opts Options) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, classed(ClassConfig, "%v", err)
	}
	lo := opts.Logging
	lo.Level, lo.Dir, lo.JSON = cfg.LogLevel, cfg.LogDir, cfg.JSONLog
	client, err := newClient(cfg)
	if err != nil {
		return nil, classed(ClassConfig, "%v", err)
	}
	log, closeLog, err := logging.New(lo)
	if err != nil {
		return nil, classed(ClassConfig, "log_dir: %v", err)
	}
	a := &App{cfg: cfg, log: log, closeLog: closeLog, metrics: metrics.New(!cfg.DisableMetrics),
		client: client, plain: upstream.New(upstream.Options{}), done: make(chan struct{}), pendingAdds: make(chan struct{}, maxPendingAdds)}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	a.lookupHost = opts.LookupHost
	if a.lookupHost == nil {
		a.lookupHost = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	if opts.PolicyOverride != "" {
		a.cfg.Policy = opts.PolicyOverride
	}
	if err := a.buildPools(); err != nil {
		_ = closeLog()
		return nil, classed(ClassConfig, "%v", err)
	}
	deps := router.Deps{Client: a.client, Plain: a.plain, Recorder: a.metrics, Log: log, Workers: a}
	if cfg.PDDisaggregation {
		deps.Prefill, deps.Decode = a.pools[0], a.pools[1]
	} else {
		deps.Regular = a.pools[0]
	}
	a.router = router.New(routerOptions(cfg), deps)
	a.checker = &worker.Checker{
		Client: a.client, Interval: healthInterval(cfg), Timeout: secs(cfg.HealthCheckTimeoutSecs),
		Endpoint:         cfg.HealthCheckEndpoint,
		FailureThreshold: cfg.HealthFailureThreshold, SuccessThreshold: cfg.HealthSuccessThreshold,
		OnChange: a.healthChanged,
		OnPass:   a.learnModel,
	}
	a.stalls = &worker.Stalls{Client: a.client, Timeout: secs(cfg.StallTimeoutSecs),
		ProbeTimeout: secs(cfg.HealthCheckTimeoutSecs), OnChange: a.stallChanged}
	return a, nil
}

// buildPools makes the regular pool, or the prefill and decode pools, with
// their static workers.
func (a *App) buildPools() error {
	c := a.cfg
	if !c.PDDisaggregation {
		pool, err := a.newPool(worker.Regular, c.Policy)
		if err == nil {
			err = a.addStatic(pool, "worker_urls", c.WorkerURLs, nil)
		}
		a.pools = []*router.Pool{pool}
		return err
	}
	prefill, err := a.newPool(worker.Prefill, c.PolicyFor(c.PrefillPolicy))
	if err != nil {
		return err
	}
	decodePolicy := c.PolicyFor(c.DecodePolicy)
	if decodePolicy == config.PolicyCacheAware {
		decodePolicy = policy.NameLeastLoad // decode holds no prefix cache worth following
	}
	decode, err := a.newPool(worker.Decode, decodePolicy)
	if err != nil {
		return err
	}
	a.pools = []*router.Pool{prefill, decode}
	urls, ports := make([]string, len(c.PrefillURLs)), make([]*int, len(c.PrefillURLs))
	for i, p := range c.PrefillURLs {
		urls[i], ports[i] = p.URL, p.BootstrapPort
	}
	if err := a.addStatic(prefill, "prefill_urls", urls, ports); err != nil {
		return err
	}
	return a.addStatic(decode, "decode_urls", c.DecodeURLs, nil)
}

// newPool makes an empty pool whose removals drop the policy's state for
// the worker and its metrics.
func (a *App) newPool(role worker.Role, policyName string) (*router.Pool, error) {
	pol, err := newPolicy(a.cfg, policyName, a.metrics, role)
	if err != nil {
		return nil, err
	}
	pool := &router.Pool{Role: role, Registry: worker.NewRegistry(), Policy: pol}
	pool.NewPolicy = func(model string) policy.Policy { return a.modelPolicy(policyName, role, model, pol) }
	pool.Registry.OnRemove(func(w *worker.Worker) {
		pool.RemoveWorker(w.URL())
		a.metrics.ForgetWorker(w.URL())
	})
	return pool, nil
}

// modelPolicy makes the policy of one model's workers in a pool (its own
// prefix tree), and starts its upkeep. fallback serves if it cannot be
// made (the same name was valid for the pool, so it can).
func (a *App) modelPolicy(name string, role worker.Role, model string, fallback policy.Policy) policy.Policy {
	pol, err := newPolicy(a.cfg, name, a.metrics, role)
	if err != nil {
		return fallback
	}
	if bg, ok := pol.(policy.Background); ok && a.ctx.Err() == nil {
		a.goRun("policy "+name+" of model "+model, bg.Run)
	}
	a.log.Info("routing a new model", zap.String("model", model), zap.String("role", role.String()), zap.String("policy", name))
	return pol
}

// addStatic adds configured workers (ports[i] is the bootstrap port, if
// any); Validate already applied worker.ParseSpec to each.
func (a *App) addStatic(pool *router.Pool, field string, urls []string, ports []*int) error {
	for i, u := range urls {
		var port *int
		if ports != nil {
			port = ports[i]
		}
		spec, err := worker.ParseSpec(u, pool.Role, port)
		if err != nil {
			return fmt.Errorf("%s: %w", field, err)
		}
		if a.cfg.DPAware { // its ranks are known once it answers: addDPStatic
			a.dpStatic = append(a.dpStatic, dpStaticWorker{field, spec})
			continue
		}
		if err := pool.Registry.Add(a.newWorker(spec)); err != nil {
			return fmt.Errorf("%s: %s listed twice", field, u)
		}
	}
	return nil
}

// newWorker builds the worker of a whole server (see equip).
func (a *App) newWorker(spec worker.Spec) *worker.Worker {
	return a.equip(spec, worker.New(spec.URL, spec.Role, spec.BootstrapPort))
}

// equip gives w, a unit of spec's server, the configured circuit breaker
// (unless disabled) and the model spec or worker_models gives (else w
// waits for its model to be learned).
func (a *App) equip(spec worker.Spec, w *worker.Worker) *worker.Worker {
	if m := a.givenModel(spec); m != "" {
		w.SetModel(m)
	} else {
		w.ExpectModel()
	}
	if !a.cfg.DisableCircuitBreaker {
		w.WithBreaker(worker.BreakerConfig{
			FailureThreshold: a.cfg.CBFailureThreshold,
			SuccessThreshold: a.cfg.CBSuccessThreshold,
			OpenFor:          secs(a.cfg.CBTimeoutDurationSecs),
			Window:           secs(a.cfg.CBWindowDurationSecs),
		})
	}
	return w
}

func routerOptions(cfg config.Config) router.Options {
	retries := cfg.RetryMaxRetries
	if cfg.DisableRetries {
		retries = 0
	}
	headers := make([]string, len(cfg.RequestIDHeaders))
	for i, h := range cfg.RequestIDHeaders {
		headers[i] = strings.ToLower(h)
	}
	return router.Options{
		MaxPayloadSize:  cfg.MaxPayloadSize,
		BodyReadTimeout: secs(cfg.BodyReadTimeoutSecs),
		MaxBufferedBody: cfg.MaxBufferedBodyBytes,
		RequestTimeout:  secs(cfg.RequestTimeoutSecs),
		Retry: router.RetryPolicy{MaxRetries: retries, Initial: ms(cfg.RetryInitialBackoffMs),
			Max: ms(cfg.RetryMaxBackoffMs), Multiplier: cfg.RetryBackoffMultiplier, Jitter: cfg.RetryJitterFactor},
		RequestIDHeaders:   headers,
		SessionHeader:      cfg.SessionHeader,
		DecisionHeaders:    cfg.DecisionHeaders,
		APIKey:             cfg.APIKey,
		CORSAllowedOrigins: cfg.CORSAllowedOrigins,
		MaxConcurrent:      cfg.MaxConcurrentRequests,
		QueueSize:          cfg.QueueSize,
		QueueTimeout:       secs(cfg.QueueTimeoutSecs),
		RateLimit:          float64(cfg.RateLimitTokensPerSecond),
		HealthTimeout:      secs(cfg.HealthCheckTimeoutSecs),
		AdminAPIKey:        cfg.AdminAPIKey,
		ClientAPIKeys:      cfg.ClientAPIKeys,
		DefaultModel:       cfg.DefaultModel,
		MaxAnswerInsert:    cfg.MaxAnswerInsertBytes,
	}
}

func (a *App) healthChanged(w *worker.Worker, healthy bool) {
	a.metrics.SetWorkerHealth(w.URL(), healthy)
	if healthy {
		a.everHealthy.Store(true)
		a.log.Info("worker healthy", zap.String("worker", w.URL()), zap.String("role", w.Role().String()))
	} else {
		w.MarkModelStale() // it may come back serving another model
		a.log.Warn("worker unhealthy: out of rotation until it recovers", zap.String("worker", w.URL()))
	}
}

func (a *App) stallChanged(w *worker.Worker, stalled bool) {
	a.metrics.SetCircuitState(w.URL(), w.CircuitState(time.Now()))
	if stalled {
		a.log.Warn("worker stalled: it answered nothing while others did; out of rotation until /health_generate answers",
			zap.String("worker", w.URL()), zap.Int64("in_flight", w.Load()))
	} else {
		a.log.Info("stalled worker answers again: back in rotation", zap.String("worker", w.URL()))
	}
}

// healthInterval is the period of health checks: health_check_interval_secs,
// or worker_startup_check_interval when that is unset (v0.1.6).
func healthInterval(cfg config.Config) time.Duration {
	if cfg.HealthCheckIntervalSecs > 0 {
		return secs(cfg.HealthCheckIntervalSecs)
	}
	return secs(cfg.WorkerStartupCheckInterval)
}

func secs(n int) time.Duration { return time.Duration(n) * time.Second }
func ms(n int) time.Duration   { return time.Duration(n) * time.Millisecond }
