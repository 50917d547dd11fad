package metrics

import (
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// observer mirrors policy.Observer; importing policy here would invert the
// dependency direction.
var _ interface {
	CacheHit(worker string)
	CacheMiss(worker string)
	LoadImbalanced()
} = (*Metrics)(nil)

func TestEveryFamilyHasSpecNameTypeAndLabels(t *testing.T) {
	counter, gauge, hist := dto.MetricType_COUNTER, dto.MetricType_GAUGE, dto.MetricType_HISTOGRAM
	want := map[string]struct {
		typ    dto.MetricType
		labels string
	}{
		"sgl_router_requests_total":                 {counter, "route"},
		"sgl_router_request_duration_seconds":       {hist, "route"},
		"sgl_router_model_requests_total":           {counter, "model"},
		"sgl_router_model_request_duration_seconds": {hist, "model"},
		"sgl_router_request_errors_total":           {counter, "error_type,route"},
		"sgl_router_retries_total":                  {counter, "route"},
		"sgl_router_active_workers":                 {gauge, ""},
		"sgl_router_processed_requests_total":       {counter, "worker"},
		"sgl_router_cache_hits_total":               {counter, ""},
		"sgl_router_cache_misses_total":             {counter, ""},
		"sgl_router_load_balancing_events_total":    {counter, ""},
		"sgl_router_max_load":                       {gauge, ""},
		"sgl_router_min_load":                       {gauge, ""},
		"sgl_router_running_requests":               {gauge, "worker"},
		"sgl_router_generate_duration_seconds":      {hist, ""},
		"sgl_router_pd_requests_total":              {counter, "route"},
		"sgl_router_pd_request_duration_seconds":    {hist, "route"},
		"sgl_router_pd_prefill_requests_total":      {counter, "worker"},
		"sgl_router_pd_decode_requests_total":       {counter, "worker"},
		"sgl_router_pd_errors_total":                {counter, "error_type"},
		"sgl_router_pd_prefill_errors_total":        {counter, "worker"},
		"sgl_router_pd_decode_errors_total":         {counter, "worker"},
		"sgl_router_pd_stream_errors_total":         {counter, "worker"},
		"sgl_router_worker_health":                  {gauge, "worker"},
		"sgl_router_worker_load":                    {gauge, "worker"},
		"sgl_router_routing_decisions_total":        {counter, "reason"},
		"sgl_router_policy_decisions_total":         {counter, "policy,worker"},
		"sgl_router_tree_size":                      {gauge, "worker"},
		"sgl_router_answers_total":                  {counter, "outcome"},
		"sgl_router_cache_aware_alone":              {gauge, ""},
		"sgl_router_discovery_updates_total":        {counter, ""},
		"sgl_router_discovery_workers_added":        {counter, ""},
		"sgl_router_discovery_workers_removed":      {counter, ""},
		"sgl_router_time_to_first_token_seconds":    {hist, "route"},
		"sgl_router_worker_circuit_state":           {gauge, "worker"},
	}
	m := New(true)
	callEvery(m)
	got := gather(t, m)
	for name, w := range want {
		mf, ok := got[name]
		if !ok {
			t.Errorf("family %s missing", name)
			continue
		}
		if mf.GetType() != w.typ {
			t.Errorf("%s type = %v, want %v", name, mf.GetType(), w.typ)
		}
		var names []string
		for _, l := range mf.GetMetric()[0].GetLabel() {
			names = append(names, l.GetName())
		}
		if strings.Join(names, ",") != w.labels {
			t.Errorf("%s labels = %v, want %q", name, names, w.labels)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("unexpected family %s", name)
		}
	}
}

func TestRecordedValuesAreExact(t *testing.T) {
	m := New(true)
	m.RecordRequest("/generate", 500*time.Millisecond)
	m.RecordRequest("/generate", 250*time.Millisecond)
	m.RecordRequest("/v1/chat/completions", 2*time.Second)
	m.RecordError("/generate", "upstream")
	m.RecordError("/generate", "timeout")
	m.RecordError("/generate", "upstream")
	m.RecordRetry("/generate")
	m.RecordTTFT("/generate", 125*time.Millisecond)
	m.RecordGenerate(4 * time.Second)
	m.RecordProcessed("http://a")
	m.RecordProcessed("http://a")
	m.RecordProcessed("http://b")
	m.RecordPolicyDecision("cache_aware", "http://a")
	m.RecordRoutingDecision("session")
	m.RecordRoutingDecision("session")
	m.CacheHit("http://a")
	m.CacheHit("http://b")
	m.CacheMiss("http://a")
	m.LoadImbalanced()
	m.SetActiveWorkers(2)
	m.SetLoadRange(7, 2)
	m.SetRunning("http://a", 5)
	m.SetRunning("http://a", 3)
	m.SetWorkerHealth("http://a", true)
	m.SetWorkerHealth("http://b", false)
	m.SetWorkerLoad("http://b", 9)
	m.SetTreeSize("http://a", 1024)
	m.SetCircuitState("http://b", CircuitHalfOpen)
	m.RecordAnswer(true)
	m.RecordAnswer(true)
	m.RecordAnswer(false)
	m.SetCacheAwareAlone(true)

	diff(t, samples(t, m), map[string]float64{
		`sgl_router_requests_total{route="/generate"}`:                              2,
		`sgl_router_requests_total{route="/v1/chat/completions"}`:                   1,
		`sgl_router_request_duration_seconds_count{route="/generate"}`:              2,
		`sgl_router_request_duration_seconds_sum{route="/generate"}`:                0.75,
		`sgl_router_request_duration_seconds_count{route="/v1/chat/completions"}`:   1,
		`sgl_router_request_duration_seconds_sum{route="/v1/chat/completions"}`:     2,
		`sgl_router_request_errors_total{error_type="upstream",route="/generate"}`:  2,
		`sgl_router_request_errors_total{error_type="timeout",route="/generate"}`:   1,
		`sgl_router_retries_total{route="/generate"}`:                               1,
		`sgl_router_time_to_first_token_seconds_count{route="/generate"}`:           1,
		`sgl_router_time_to_first_token_seconds_sum{route="/generate"}`:             0.125,
		`sgl_router_generate_duration_seconds_count`:                                1,
		`sgl_router_generate_duration_seconds_sum`:                                  4,
		`sgl_router_processed_requests_total{worker="http://a"}`:                    2,
		`sgl_router_processed_requests_total{worker="http://b"}`:                    1,
		`sgl_router_policy_decisions_total{policy="cache_aware",worker="http://a"}`: 1,
		`sgl_router_routing_decisions_total{reason="session"}`:                      2,
		`sgl_router_cache_hits_total`:                                               2,
		`sgl_router_cache_misses_total`:                                             1,
		`sgl_router_load_balancing_events_total`:                                    1,
		`sgl_router_active_workers`:                                                 2,
		`sgl_router_max_load`:                                                       7,
		`sgl_router_min_load`:                                                       2,
		`sgl_router_running_requests{worker="http://a"}`:                            3,
		`sgl_router_worker_health{worker="http://a"}`:                               1,
		`sgl_router_worker_health{worker="http://b"}`:                               0,
		`sgl_router_worker_load{worker="http://b"}`:                                 9,
		`sgl_router_tree_size{worker="http://a"}`:                                   1024,
		`sgl_router_worker_circuit_state{worker="http://b"}`:                        2,
		`sgl_router_answers_total{outcome="recorded"}`:                              2,
		`sgl_router_answers_total{outcome="skipped"}`:                               1,
		`sgl_router_cache_aware_alone`:                                              1,
		// Unlabelled families are exported from the start.
		`sgl_router_discovery_updates_total`:   0,
		`sgl_router_discovery_workers_added`:   0,
		`sgl_router_discovery_workers_removed`: 0,
	})
}
