// Package metrics owns the router's Prometheus collectors. Each Metrics has a
// private registry (never the global default), so two routers in one process
// export independent numbers. Record*/Set* methods are safe for concurrent use
// and cheap on the request path: labelled children are cached after first use,
// so recording allocates nothing.
package metrics

import (
	"net/http"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the set of router metrics (listed in the README's Metrics section). A nil *Metrics, or one
// built with New(false), accepts every Record*/Set* call and records nothing.
type Metrics struct {
	enabled bool
	reg     *prometheus.Registry
	handler http.Handler
	// onScrape, when set, brings the state gauges up to date before each
	// scrape, so they are current from the first one.
	onScrape atomic.Pointer[func()]

	// Regular-mode request path.
	requests *series[string, timedCounter] // requests_total + request_duration_seconds
	// modelRequests: model_requests_total + model_request_duration_seconds;
	// the labels are models learned from workers or configured, so bounded.
	modelRequests *series[string, timedCounter]
	errors        *series[labelPair, prometheus.Counter]
	retries       *series[string, prometheus.Counter]
	ttft          *series[string, prometheus.Observer]
	generate      prometheus.Histogram
	processed     *series[string, prometheus.Counter]
	decisions     *series[labelPair, prometheus.Counter] // {policy, worker}
	reasons       *series[string, prometheus.Counter]    // {reason}

	cacheHits, cacheMisses, imbalanced prometheus.Counter
	answers                            *series[string, prometheus.Counter] // {outcome}
	alone                              prometheus.Gauge

	// Worker and pool state.
	activeWorkers, maxLoad, minLoad          prometheus.Gauge
	running, health, load, treeSize, circuit *series[string, prometheus.Gauge]

	// PD mode.
	pdRequests                                   *series[string, timedCounter]
	pdErrors                                     *series[string, prometheus.Counter]
	pdPrefill, pdDecode                          *series[string, prometheus.Counter]
	pdPrefillErrors, pdDecodeErrors, pdStreamErr *series[string, prometheus.Counter]

	// Service discovery.
	discoveryUpdates, discoveryAdded, discoveryRemoved prometheus.Counter

	// perWorker deletes one worker's children from every worker-labelled family.
	perWorker []func(worker string)
}

// New builds the collectors on a fresh private registry, together with the Go
// runtime and process collectors. With enabled false the families are still
// registered (the handler serves them) but nothing is ever recorded, which is
// how a benchmark measures what metrics cost.
func New(enabled bool) *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m := &Metrics{enabled: enabled, reg: reg}
	inner := promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
	})
	m.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f := m.onScrape.Load(); f != nil {
			(*f)()
		}
		inner.ServeHTTP(w, r)
	})
	m.build(builder{reg: reg})
	return m
}

// OnScrape sets f to run before every scrape of Handler (the owner's
// refresh of state gauges). f must be safe for concurrent use.
func (m *Metrics) OnScrape(f func()) { m.onScrape.Store(&f) }

// Handler serves the registry in the Prometheus text format; mount it at /metrics.
func (m *Metrics) Handler() http.Handler { return m.handler }

// Registry exposes the private registry, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Enabled reports whether Record*/Set* calls are recorded.
func (m *Metrics) Enabled() bool { return m != nil && m.enabled }

// off is the guard at the top of every Record*/Set* method.
func (m *Metrics) off() bool { return m == nil || !m.enabled }
