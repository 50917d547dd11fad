package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// DurationBuckets returns the histogram bucket bounds in seconds: fine-grained below a second for routing overhead and short
// requests, up to four minutes for long generations. Each call returns a new
// slice.
func DurationBuckets() []float64 {
	return []float64{
		0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
		5, 10, 15, 30, 45, 60, 90, 120, 180, 240,
	}
}

// Circuit-breaker states as exported by sgl_router_worker_circuit_state.
const (
	CircuitClosed   = 0
	CircuitOpen     = 1
	CircuitHalfOpen = 2
	// CircuitStalled: stall detection holds the worker out of rotation.
	CircuitStalled = 3
)

// timedCounter is a request counter and its duration histogram, cached
// together so RecordRequest does one lookup.
type timedCounter struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

// labelPair is the cache key of two-label families.
type labelPair struct{ a, b string }

// build creates and registers every family. Names, types and labels are the
// original router's; TTFT and circuit state are additions.
func (m *Metrics) build(b builder) {
	m.requests = b.timed("sgl_router_requests_total", "sgl_router_request_duration_seconds",
		"Requests handled, by route.", "Request duration from arrival to last byte, by route.")
	m.modelRequests = b.timedBy("model", "sgl_router_model_requests_total", "sgl_router_model_request_duration_seconds",
		"Model requests handled, by the model whose workers served them (\"default\": no model).",
		"Model request duration from arrival to last byte, by model.")
	m.errors = b.counterPairs("sgl_router_request_errors_total",
		"Requests that failed, by route and error type.", "route", "error_type")
	m.retries = b.counters("sgl_router_retries_total", "Retries of a request on another worker, by route.", "route")
	m.ttft = b.histograms("sgl_router_time_to_first_token_seconds",
		"Time from arrival to the first response byte sent to the client, by route.", "route")
	m.generate = b.histogram("sgl_router_generate_duration_seconds", "Duration of generate requests.")
	m.processed = b.counters("sgl_router_processed_requests_total", "Requests sent to each worker.", "worker")
	m.decisions = b.counterPairs("sgl_router_policy_decisions_total",
		"Workers chosen, by policy and worker.", "policy", "worker")
	m.reasons = b.counters("sgl_router_routing_decisions_total",
		"Workers chosen, by reason: cache_hit, cache_miss, imbalance, session, fallback.", "reason")
	m.cacheHits = b.counter("sgl_router_cache_hits_total", "cache_aware picks that followed a prefix match.")
	m.cacheMisses = b.counter("sgl_router_cache_misses_total", "cache_aware picks without a usable prefix match.")
	m.imbalanced = b.counter("sgl_router_load_balancing_events_total",
		"Picks made by load because the pool was imbalanced.")
	m.answers = b.counters("sgl_router_answers_total",
		"Answers read to record in cache_aware's prefix tree, by outcome: recorded, or skipped (no text, too long, cut off).", "outcome")
	m.alone = b.gauge("sgl_router_cache_aware_alone",
		"1 while cache_aware sees no other router sending to its workers (it then places for balance), else 0.")

	m.activeWorkers = b.gauge("sgl_router_active_workers", "Workers currently in the pool.")
	m.maxLoad = b.gauge("sgl_router_max_load", "Highest in-flight request count among workers.")
	m.minLoad = b.gauge("sgl_router_min_load", "Lowest in-flight request count among workers.")
	m.running = b.gauges("sgl_router_running_requests", "Requests in flight on each worker.", "worker")
	m.health = b.gauges("sgl_router_worker_health", "1 if the worker is healthy, else 0.", "worker")
	m.load = b.gauges("sgl_router_worker_load", "Load reported by or tracked for each worker.", "worker")
	m.treeSize = b.gauges("sgl_router_tree_size", "Characters in the prefix tree per worker.", "worker")
	m.circuit = b.gauges("sgl_router_worker_circuit_state",
		"Circuit breaker state per worker: 0 closed, 1 open, 2 half-open, 3 stalled (answers nothing while others do).", "worker")

	m.pdRequests = b.timed("sgl_router_pd_requests_total", "sgl_router_pd_request_duration_seconds",
		"PD requests handled, by route.", "PD request duration, by route.")
	m.pdErrors = b.counters("sgl_router_pd_errors_total", "PD requests that failed, by error type.", "error_type")
	m.pdPrefill = b.counters("sgl_router_pd_prefill_requests_total", "Requests sent to each prefill worker.", "worker")
	m.pdDecode = b.counters("sgl_router_pd_decode_requests_total", "Requests sent to each decode worker.", "worker")
	m.pdPrefillErrors = b.counters("sgl_router_pd_prefill_errors_total", "Failures of each prefill worker.", "worker")
	m.pdDecodeErrors = b.counters("sgl_router_pd_decode_errors_total", "Failures of each decode worker.", "worker")
	m.pdStreamErr = b.counters("sgl_router_pd_stream_errors_total",
		"Streams from each decode worker that broke mid-way.", "worker")

	m.discoveryUpdates = b.counter("sgl_router_discovery_updates_total", "Pod events handled by service discovery.")
	m.discoveryAdded = b.counter("sgl_router_discovery_workers_added", "Workers added by service discovery.")
	m.discoveryRemoved = b.counter("sgl_router_discovery_workers_removed", "Workers removed by service discovery.")

	m.perWorker = []func(string){
		forgetKey(m.processed), forgetKey(m.running), forgetKey(m.health), forgetKey(m.load),
		forgetKey(m.treeSize), forgetKey(m.circuit), forgetKey(m.pdPrefill), forgetKey(m.pdDecode),
		forgetKey(m.pdPrefillErrors), forgetKey(m.pdDecodeErrors), forgetKey(m.pdStreamErr),
		func(w string) { m.decisions.forget(func(k labelPair) bool { return k.b == w }) },
	}
}

func forgetKey[V any](s *series[string, V]) func(string) {
	return func(w string) { s.forget(func(k string) bool { return k == w }) }
}
