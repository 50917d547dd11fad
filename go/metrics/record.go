package metrics

import "time"

// RecordModelRequest counts a request routed to the workers of model
// ("" counts as "default").
func (m *Metrics) RecordModelRequest(model string, d time.Duration) {
	if m.off() {
		return
	}
	if model == "" {
		model = "default"
	}
	s := m.modelRequests.get(model)
	s.count.Inc()
	s.duration.Observe(d.Seconds())
}

// RecordRequest counts one finished request on route and observes its
// duration (sgl_router_requests_total, sgl_router_request_duration_seconds).
// Streamed requests count too, when their stream ends.
func (m *Metrics) RecordRequest(route string, d time.Duration) {
	if m.off() {
		return
	}
	s := m.requests.get(route)
	s.count.Inc()
	s.duration.Observe(d.Seconds())
}

// RecordError counts a failed request (sgl_router_request_errors_total).
func (m *Metrics) RecordError(route, errorType string) {
	if m.off() {
		return
	}
	m.errors.get(labelPair{route, errorType}).Inc()
}

// RecordRetry counts one retry of a request on route (sgl_router_retries_total).
func (m *Metrics) RecordRetry(route string) {
	if m.off() {
		return
	}
	m.retries.get(route).Inc()
}

// RecordTTFT observes the time to the first response byte sent to the client
// (sgl_router_time_to_first_token_seconds).
func (m *Metrics) RecordTTFT(route string, d time.Duration) {
	if m.off() {
		return
	}
	m.ttft.get(route).Observe(d.Seconds())
}

// RecordGenerate observes a generate request's duration
// (sgl_router_generate_duration_seconds).
func (m *Metrics) RecordGenerate(d time.Duration) {
	if m.off() {
		return
	}
	m.generate.Observe(d.Seconds())
}

// RecordProcessed counts a request sent to worker
// (sgl_router_processed_requests_total).
func (m *Metrics) RecordProcessed(worker string) {
	if m.off() {
		return
	}
	m.processed.get(worker).Inc()
}

// RecordPolicyDecision counts a pick of worker by policy
// (sgl_router_policy_decisions_total).
func (m *Metrics) RecordPolicyDecision(policy, worker string) {
	if m.off() {
		return
	}
	m.decisions.get(labelPair{policy, worker}).Inc()
}

// RecordRoutingDecision counts a pick by the reason the policy gave
// (sgl_router_routing_decisions_total): a handful of fixed values.
func (m *Metrics) RecordRoutingDecision(reason string) {
	if m.off() {
		return
	}
	m.reasons.get(reason).Inc()
}

// CacheHit counts a cache_aware pick that followed a prefix match
// (sgl_router_cache_hits_total). The family has no worker label (as in the
// original); worker is accepted to satisfy policy.Observer.
func (m *Metrics) CacheHit(worker string) {
	if m.off() {
		return
	}
	m.cacheHits.Inc()
}

// CacheMiss counts a cache_aware pick without a usable prefix match
// (sgl_router_cache_misses_total); worker is not a label, see CacheHit.
func (m *Metrics) CacheMiss(worker string) {
	if m.off() {
		return
	}
	m.cacheMisses.Inc()
}

// LoadImbalanced counts a pick made by load because the pool was imbalanced
// (sgl_router_load_balancing_events_total).
func (m *Metrics) LoadImbalanced() {
	if m.off() {
		return
	}
	m.imbalanced.Inc()
}

// RecordAnswer counts an answer read to record in cache_aware's prefix
// tree (sgl_router_answers_total): recorded, or skipped.
func (m *Metrics) RecordAnswer(recorded bool) {
	if m.off() {
		return
	}
	outcome := "skipped"
	if recorded {
		outcome = "recorded"
	}
	m.answers.get(outcome).Inc()
}
