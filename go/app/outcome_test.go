package app

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sgl-project/sglang-router-go/go/config"
	"github.com/sgl-project/sglang-router-go/go/sim"
	"github.com/sgl-project/sglang-router-go/go/worker"
	"github.com/sgl-project/sglang-router-go/go/worker/workertest"
)

// A stream still running when the shutdown grace period ends is not just
// dropped: it ends with an error event saying the router is shutting down,
// then the connection closes.
func TestShutdownGraceEndsStreamsWithAnErrorEvent(t *testing.T) {
	w := workertest.New(t, "w0")
	w.Gate = make(chan struct{}) // the stream stops after its first event
	a, _ := startApp(t, testConfig(w.URL))
	ready(t, a)
	resp, err := http.Post("http://"+a.Addr()+"/generate", "application/json", strings.NewReader(`{"text":"a","stream":true}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	if line, err := rd.ReadString('\n'); err != nil || !strings.Contains(line, "tok0") {
		t.Fatalf("first event: %q %v", line, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond) // the grace period
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- a.Shutdown(ctx) }()
	rest, err := io.ReadAll(rd)
	if err == nil {
		t.Error("the cut stream ended like a complete one")
	}
	var last string
	for _, line := range strings.Split(string(rest), "\n") {
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			last = data
		}
	}
	var e struct {
		Error struct {
			Message, Type string
			Code          int
		}
	}
	if json.Unmarshal([]byte(last), &e) != nil || !strings.Contains(e.Error.Message, "shutting down") || e.Error.Code != 504 {
		t.Fatalf("stream ended with %q, want an error event saying the router is shutting down", rest)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
}

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
