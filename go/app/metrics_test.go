package app

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/sgl-project/sglang-router-go/go/config"
	"github.com/sgl-project/sglang-router-go/go/policy"
	"github.com/sgl-project/sglang-router-go/go/sim"
	"github.com/sgl-project/sglang-router-go/go/worker"
)

// scrape reads the router's /metrics into "name{labels}" -> value.
func scrape(t *testing.T, a *App) map[string]float64 {
	t.Helper()
	_, body := get(t, "http://"+a.MetricsAddr()+"/metrics")
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

// TestMetricsCountAKnownMix drives a known mix of requests and asserts the
// exact counter values: successes (one streamed), a malformed body, a
// worker failure retried elsewhere, cache hits and misses.
func TestMetricsCountAKnownMix(t *testing.T) {
	a0 := startSim(t, sim.Config{Workers: 1})
	b0 := startSim(t, sim.Config{Workers: 1, FaultFailFirstN: 1})
	A, B := a0.URLs()[0], b0.URLs()[0]
	cfg := testConfig(A, B)
	cfg.Policy = config.PolicyCacheAware
	a, _ := startApp(t, cfg)
	waitUntil(t, "both healthy", func() bool {
		_, b := get(t, "http://"+a.Addr()+"/readiness")
		return strings.Contains(b, `"healthy_workers":2`)
	})

	// A new prefix goes where rendezvous hashing of its leading block
	// puts it: pick texts whose place is known (the ports are random).
	shared := placedOn(t, A, []string{A, B}, func(i int) string { return strings.Repeat(fmt.Sprintf("system prompt %d ", i), 20) })
	other := placedOn(t, B, []string{A, B}, func(i int) string { return fmt.Sprintf("an unrelated question about cats %d", i) })
	send := func(body string, want int) {
		t.Helper()
		if s, b := post(t, "http://"+a.Addr()+"/generate", body); s != want {
			t.Fatalf("%s: %d %s", body[:min(40, len(body))], s, b)
		}
	}
	send(`{"text":"`+shared+`one"}`, 200)                 // miss: placed on A
	send(`{"text":"`+shared+`two"}`, 200)                 // hit on A
	send(`{"text":"`+shared+`three","stream":true}`, 200) // hit on A, streamed
	send(`{"text":"`+other+`"}`, 200)                     // miss -> B; B fails once -> retry -> miss -> A (fallback)
	send(`{"text": `, 400)                                // malformed: rejected before routing

	m := scrape(t, a)
	want := map[string]float64{
		`sgl_router_requests_total{route="/generate"}`:                                          5,
		`sgl_router_request_errors_total{error_type="invalid_request_error",route="/generate"}`: 1,
		`sgl_router_retries_total{route="/generate"}`:                                           1,
		`sgl_router_cache_hits_total`:                                                           2,
		`sgl_router_cache_misses_total`:                                                         3,
		`sgl_router_routing_decisions_total{reason="cache_miss"}`:                               2,
		`sgl_router_routing_decisions_total{reason="cache_hit"}`:                                2,
		`sgl_router_routing_decisions_total{reason="fallback"}`:                                 1,
		`sgl_router_processed_requests_total{worker="` + A + `"}`:                               4,
		`sgl_router_policy_decisions_total{policy="cache_aware",worker="` + A + `"}`:            4,
		`sgl_router_policy_decisions_total{policy="cache_aware",worker="` + B + `"}`:            1,
		`sgl_router_time_to_first_token_seconds_count{route="/generate"}`:                       4,
		`sgl_router_generate_duration_seconds_count`:                                            4, // routed requests only: bad input never reaches a worker
		`sgl_router_request_duration_seconds_count{route="/generate"}`:                          5,
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	if _, ok := m[`sgl_router_processed_requests_total{worker="`+B+`"}`]; ok {
		t.Errorf("B's failed attempt was counted as processed")
	}
}

// TestPDMetrics: the prefill fails its first three requests (500). With
// one retry, request 0 fails twice and the client gets the prefill's 500
// whole; request 1 fails once and is retried; request 2 succeeds at once.
func TestPDMetrics(t *testing.T) {
	prefill := startSim(t, sim.Config{Workers: 1, Role: sim.RolePrefill, FaultFailFirstN: 3})
	decode := startSim(t, sim.Config{Workers: 1, Role: sim.RoleDecode, BootstrapTimeoutMs: 60000})
	cfg := pdConfig(prefill, decode)
	cfg.RetryMaxRetries = 1
	a, _ := startApp(t, cfg)
	ready(t, a)
	P, D := prefill.URLs()[0], decode.URLs()[0]
	for i, want := range []int{500, 200, 200} {
		s, b := post(t, "http://"+a.Addr()+"/generate", `{"text":"hello"}`)
		if s != want {
			t.Fatalf("request %d: %d %s", i, s, b)
		}
		if s == 500 && !strings.Contains(b, "injected failure of request 2") {
			t.Fatalf("request %d: the prefill's answer did not reach the client whole: %s", i, b)
		}
	}
	m := scrape(t, a)
	for k, v := range map[string]float64{
		`sgl_router_pd_requests_total{route="/generate"}`:                                      3,
		`sgl_router_pd_prefill_requests_total{worker="` + P + `"}`:                             5, // one per attempt
		`sgl_router_pd_decode_requests_total{worker="` + D + `"}`:                              5,
		`sgl_router_pd_errors_total{error_type="worker_error"}`:                                1, // requests that failed
		`sgl_router_pd_prefill_errors_total{worker="` + P + `"}`:                               3, // attempts the prefill failed
		`sgl_router_retries_total{route="/generate"}`:                                          2,
		`sgl_router_requests_total{route="/generate"}`:                                         3,
		`sgl_router_request_errors_total{error_type="worker_error",route="/generate"}`:         1,
		`sgl_router_running_requests{worker="` + P + `"}`:                                      0,
		`sgl_router_running_requests{worker="` + D + `"}`:                                      0,
		`sgl_router_processed_requests_total{worker="` + D + `"}`:                              2,
		`sgl_router_policy_decisions_total{policy="round_robin",worker="` + P + `"}`:           5,
		`sgl_router_pd_decode_errors_total{worker="` + D + `"}`:                                0,
		`sgl_router_request_errors_total{error_type="upstream_error",route="/generate"}`:       0,
		`sgl_router_request_errors_total{error_type="internal_error",route="/generate"}`:       0,
		`sgl_router_request_errors_total{error_type="no_available_workers",route="/generate"}`: 0,
	} {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	for _, w := range []string{P, D} {
		if _, ok := m[`sgl_router_running_requests{worker="`+w+`"}`]; !ok {
			t.Errorf("PD requests never set sgl_router_running_requests for %s", w)
		}
	}
}

// placedOn returns the first text(i) whose leading block rendezvous
// hashing places on want among urls (all idle), as cache_aware places a
// prefix it has not seen.
func placedOn(t *testing.T, want string, urls []string, text func(int) string) string {
	t.Helper()
	ws := make([]*worker.Worker, len(urls))
	for i, u := range urls {
		ws[i] = worker.New(u, worker.Regular, nil)
	}
	for i := range 1000 {
		s := text(i)
		if policy.Home(ws, s).URL() == want {
			return s
		}
	}
	t.Fatalf("no text placed on %s", want)
	return ""
}
