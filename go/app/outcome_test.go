package app

import (
	"strings"
	"testing"
	"time"

	"github.com/sgl-project/sglang-router-go/go/config"
	"github.com/sgl-project/sglang-router-go/go/sim"
	"github.com/sgl-project/sglang-router-go/go/worker"
)

// The case against simulated workers: three workers that never
// answer, a breaker that opens on one failure, a one-second request
// timeout. Each request ends in 504 after one attempt and no circuit opens,
// so the next request is again a 504, not a 503.
func TestHungWorkersTimeOutWithoutOpeningCircuits(t *testing.T) {
	cluster := startSim(t, sim.Config{Workers: 3, FaultHang: true})
	cfg := testConfig(cluster.URLs()...)
	cfg.Policy = config.PolicyRoundRobin
	cfg.CBFailureThreshold = 1
	cfg.RequestTimeoutSecs = 1
	a, _ := startApp(t, cfg)
	ready(t, a)
	for i := range 2 {
		if s, b := post(t, "http://"+a.Addr()+"/generate", `{"text":"a"}`); s != 504 || !strings.Contains(b, `"type":"timeout"`) {
			t.Fatalf("request %d: %d %s, want 504", i, s, b)
		}
	}
	now := time.Now()
	for _, w := range a.pools[0].Registry.Snapshot() {
		if w.CircuitState(now) != worker.CircuitClosed || w.Load() != 0 {
			t.Errorf("%s: circuit state %d, in flight %d", w.URL(), w.CircuitState(now), w.Load())
		}
	}
	m := scrape(t, a)
	for k, v := range map[string]float64{
		`sgl_router_request_errors_total{error_type="timeout",route="/generate"}`: 2,
		`sgl_router_retries_total{route="/generate"}`:                             0,
	} {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
}
