package metrics

import "time"

// RecordPDRequest counts a finished PD request on route and observes its
// duration (sgl_router_pd_requests_total, sgl_router_pd_request_duration_seconds).
func (m *Metrics) RecordPDRequest(route string, d time.Duration) {
	if m.off() {
		return
	}
	s := m.pdRequests.get(route)
	s.count.Inc()
	s.duration.Observe(d.Seconds())
}

// RecordPDPrefill counts a request sent to a prefill worker
// (sgl_router_pd_prefill_requests_total).
func (m *Metrics) RecordPDPrefill(worker string) {
	if m.off() {
		return
	}
	m.pdPrefill.get(worker).Inc()
}

// RecordPDDecode counts a request sent to a decode worker
// (sgl_router_pd_decode_requests_total).
func (m *Metrics) RecordPDDecode(worker string) {
	if m.off() {
		return
	}
	m.pdDecode.get(worker).Inc()
}

// RecordPDError counts a failed PD request by class (sgl_router_pd_errors_total).
func (m *Metrics) RecordPDError(errorType string) {
	if m.off() {
		return
	}
	m.pdErrors.get(errorType).Inc()
}

// RecordPDPrefillError counts a prefill worker failure
// (sgl_router_pd_prefill_errors_total).
func (m *Metrics) RecordPDPrefillError(worker string) {
	if m.off() {
		return
	}
	m.pdPrefillErrors.get(worker).Inc()
}

// RecordPDDecodeError counts a decode worker failure
// (sgl_router_pd_decode_errors_total).
func (m *Metrics) RecordPDDecodeError(worker string) {
	if m.off() {
		return
	}
	m.pdDecodeErrors.get(worker).Inc()
}

// RecordPDStreamError counts a decode stream that broke after it started
// (sgl_router_pd_stream_errors_total).
func (m *Metrics) RecordPDStreamError(worker string) {
	if m.off() {
		return
	}
	m.pdStreamErr.get(worker).Inc()
}
