package metrics

import (
	"testing"
	"time"
)

func TestPDAndDiscoveryValuesAreExact(t *testing.T) {
	m := New(true)
	m.RecordPDRequest("/generate", 500*time.Millisecond)
	m.RecordPDRequest("/generate", 500*time.Millisecond)
	m.RecordPDPrefill("http://p1")
	m.RecordPDDecode("http://d1")
	m.RecordPDDecode("http://d1")
	m.RecordPDError("prefill_failed")
	m.RecordPDPrefillError("http://p1")
	m.RecordPDDecodeError("http://d1")
	m.RecordPDStreamError("http://d1")
	m.RecordDiscoveryUpdate()
	m.RecordDiscoveryUpdate()
	m.RecordDiscoveryAdded()
	m.RecordDiscoveryRemoved()

	got := samples(t, m)
	want := map[string]float64{
		`sgl_router_pd_requests_total{route="/generate"}`:                 2,
		`sgl_router_pd_request_duration_seconds_count{route="/generate"}`: 2,
		`sgl_router_pd_request_duration_seconds_sum{route="/generate"}`:   1,
		`sgl_router_pd_prefill_requests_total{worker="http://p1"}`:        1,
		`sgl_router_pd_decode_requests_total{worker="http://d1"}`:         2,
		`sgl_router_pd_errors_total{error_type="prefill_failed"}`:         1,
		`sgl_router_pd_prefill_errors_total{worker="http://p1"}`:          1,
		`sgl_router_pd_decode_errors_total{worker="http://d1"}`:           1,
		`sgl_router_pd_stream_errors_total{worker="http://d1"}`:           1,
		`sgl_router_discovery_updates_total`:                              2,
		`sgl_router_discovery_workers_added`:                              1,
		`sgl_router_discovery_workers_removed`:                            1,
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
}
