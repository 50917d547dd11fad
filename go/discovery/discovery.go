// Package discovery keeps the router's worker pools in step with Kubernetes:
// it watches pods (client-go informer), turns the matching Running+Ready
// pods into workers and writes additions and removals into a small Sink.
// It is the only package that imports client-go.
//
// Discovery owns only what it added: workers configured by URL are never
// removed by it. When the API server cannot be reached (no configuration,
// server down, permission denied) it logs the problem once per change of
// state, keeps the workers it has, and retries with backoff; it never ends
// the process. After every (re)connection it lists all pods afresh, so
// changes made while it was disconnected are reflected exactly.
package discovery

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/sgl-project/sglang-router-go/go/config"
	"github.com/sgl-project/sglang-router-go/go/worker"
)

// Sink receives the discovered workers; *app.App satisfies it. Errors
// carry the worker package's classes (worker.ErrExists, worker.ErrNotFound).
type Sink interface {
	AddWorker(ctx context.Context, spec worker.Spec, how worker.Admission) error
	RemoveWorker(url string) error
}

// Recorder counts discovery's work; *metrics.Metrics satisfies it.
type Recorder interface {
	RecordDiscoveryUpdate()  // one pod event handled
	RecordDiscoveryAdded()   // one worker added to the sink
	RecordDiscoveryRemoved() // one worker removed from the sink
}

// Config says which pods are workers and how to reach the API server.
type Config struct {
	// Selector picks worker pods in regular mode; PrefillSelector and
	// DecodeSelector pick them in PD mode (prefill wins when both match).
	// A pod matches when its labels contain every key=value of the selector.
	Selector, PrefillSelector, DecodeSelector map[string]string
	PD                                        bool
	// Namespace to watch; "" watches every namespace.
	Namespace string
	// Port of the worker URLs http://{podIP}:{Port}.
	Port int
	// BootstrapPortAnnotation names the prefill pods' bootstrap-port annotation.
	BootstrapPortAnnotation string
	// ModelAnnotation names the annotation that gives a pod's model.
	ModelAnnotation string
	// Kubeconfig, when set, is used instead of the in-cluster configuration,
	// $KUBECONFIG and ~/.kube/config.
	Kubeconfig string

	// RetryMin and RetryMax bound the backoff between attempts to reach the
	// API server (defaults 1s and 10s).
	RetryMin, RetryMax time.Duration
	// Resync is how often the whole pod list is compared again with what
	// discovery added, and refused additions are retried (default 30s).
	Resync time.Duration
}

// FromConfig takes discovery's settings from the router's configuration.
func FromConfig(c config.Config) Config {
	return Config{
		Selector:                c.Selector,
		PrefillSelector:         c.PrefillSelector,
		DecodeSelector:          c.DecodeSelector,
		PD:                      c.PDDisaggregation,
		Namespace:               c.ServiceDiscoveryNamespace,
		Port:                    c.ServiceDiscoveryPort,
		BootstrapPortAnnotation: c.BootstrapPortAnnotation,
		ModelAnnotation:         c.ModelAnnotation,
	}
}

func (c Config) withDefaults() Config {
	if c.RetryMin <= 0 {
		c.RetryMin = time.Second
	}
	if c.RetryMax < c.RetryMin {
		c.RetryMax = max(10*time.Second, c.RetryMin)
	}
	if c.Resync <= 0 {
		c.Resync = 30 * time.Second
	}
	if c.BootstrapPortAnnotation == "" {
		c.BootstrapPortAnnotation = config.DefaultAnnotation
	}
	return c
}

// Discovery watches pods and keeps the sink's discovered workers in step.
// Run it once, on one goroutine; its state is owned by that goroutine.
type Discovery struct {
	cfg   Config
	sink  Sink
	log   *zap.Logger
	rec   Recorder
	match matcher
	added map[string]target // url -> worker that discovery put into the sink
	// refused maps a url the sink would not take to the error last logged
	// for it, so a refusal is logged once and retried only at resync.
	refused map[string]string
	conn    connState // last reported connection state, to log changes only
	wasUp   bool      // a session has listed pods before
}

// New returns a Discovery; nothing happens until Run. rec may be nil.
func New(cfg Config, sink Sink, log *zap.Logger, rec Recorder) *Discovery {
	cfg = cfg.withDefaults()
	if rec == nil {
		rec = nopRecorder{}
	}
	if log == nil {
		log = zap.NewNop()
	}
	return &Discovery{
		cfg: cfg, sink: sink, log: log.Named("discovery"), rec: rec, match: newMatcher(cfg),
		added: map[string]target{}, refused: map[string]string{},
	}
}

type nopRecorder struct{}

func (nopRecorder) RecordDiscoveryUpdate()  {}
func (nopRecorder) RecordDiscoveryAdded()   {}
func (nopRecorder) RecordDiscoveryRemoved() {}

// Run watches until ctx is done. It never returns early and never panics
// out: every failure is logged and retried with backoff.
func (d *Discovery) Run(ctx context.Context) {
	d.log.Info("service discovery starting", d.watchFields()...)
	if err := d.match.validate(); err != nil {
		d.log.Error("service discovery disabled: invalid selector; serving the configured workers only", zap.Error(err))
		<-ctx.Done()
		return
	}
	delay := d.cfg.RetryMin
	for ctx.Err() == nil {
		synced, err := d.safeSession(ctx)
		if ctx.Err() != nil {
			return
		}
		if synced {
			delay = d.cfg.RetryMin // it worked for a while: start the backoff afresh
		}
		d.reportFailure(err, delay)
		if !sleep(ctx, delay) {
			return
		}
		delay = min(2*delay, d.cfg.RetryMax)
	}
}

func (d *Discovery) watchFields() []zap.Field {
	ns := d.cfg.Namespace
	if ns == "" {
		ns = "(all namespaces)"
	}
	fs := []zap.Field{zap.String("namespace", ns), zap.Int("port", d.cfg.Port)}
	if d.cfg.PD {
		return append(fs, zap.Any("prefill_selector", d.cfg.PrefillSelector), zap.Any("decode_selector", d.cfg.DecodeSelector))
	}
	return append(fs, zap.Any("selector", d.cfg.Selector))
}

// sleep waits d or until ctx is done; it reports whether to go on.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
