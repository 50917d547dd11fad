package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestDisabledRecordsNothing(t *testing.T) {
	m := New(false)
	if m.Enabled() {
		t.Fatal("Enabled() = true for New(false)")
	}
	callEvery(m)
	m.ForgetWorker("w")
	for k, v := range samples(t, m) {
		if strings.Contains(k, "{") {
			t.Errorf("labelled series %s = %v exported while disabled", k, v)
		} else if v != 0 {
			t.Errorf("%s = %v while disabled, want 0", k, v)
		}
	}
}

func TestNilMetricsIgnoresCalls(t *testing.T) {
	var m *Metrics
	callEvery(m)
	m.ForgetWorker("w")
	if m.Enabled() {
		t.Fatal("nil Metrics reports Enabled")
	}
}

func TestInstancesAreIndependent(t *testing.T) {
	a, b := New(true), New(true)
	a.RecordRequest("/generate", time.Second)
	a.RecordProcessed("w")
	b.RecordProcessed("w")
	b.RecordProcessed("w")

	if got := samples(t, a)[`sgl_router_processed_requests_total{worker="w"}`]; got != 1 {
		t.Errorf("a processed = %v, want 1", got)
	}
	if got := samples(t, b)[`sgl_router_processed_requests_total{worker="w"}`]; got != 2 {
		t.Errorf("b processed = %v, want 2", got)
	}
	if _, ok := samples(t, b)[`sgl_router_requests_total{route="/generate"}`]; ok {
		t.Error("b exports a request recorded only on a")
	}
}

func TestForgetWorkerDeletesEveryWorkerSeries(t *testing.T) {
	m := New(true)
	callEvery(m) // worker "w"
	m.RecordProcessed("keep")
	m.RecordPolicyDecision("round_robin", "keep")
	m.ForgetWorker("w")

	for k := range samples(t, m) {
		if strings.Contains(k, `worker="w"`) {
			t.Errorf("%s still exported after ForgetWorker", k)
		}
	}
	got := samples(t, m)
	for _, k := range []string{
		`sgl_router_processed_requests_total{worker="keep"}`,
		`sgl_router_policy_decisions_total{policy="round_robin",worker="keep"}`,
	} {
		if got[k] != 1 {
			t.Errorf("%s = %v, want 1 (other workers untouched)", k, got[k])
		}
	}

	m.RecordProcessed("w")
	if v := samples(t, m)[`sgl_router_processed_requests_total{worker="w"}`]; v != 1 {
		t.Errorf("series after re-adding = %v, want a fresh count of 1", v)
	}
}

func TestHistogramsUseSpecBuckets(t *testing.T) {
	m := New(true)
	callEvery(m)
	want := DurationBuckets()
	for name, mf := range gather(t, m) {
		h := mf.GetMetric()[0].GetHistogram()
		if h == nil {
			continue
		}
		var got []float64
		for _, b := range h.GetBucket() {
			got = append(got, b.GetUpperBound())
		}
		if len(got) != len(want) {
			t.Fatalf("%s has %d buckets, want %d", name, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s bucket %d = %v, want %v", name, i, got[i], want[i])
			}
		}
	}
}

func TestHandlerServesTextFormat(t *testing.T) {
	for _, enabled := range []bool{true, false} {
		m := New(enabled)
		m.RecordRequest("/generate", time.Second)
		srv := httptest.NewServer(m.Handler())
		resp, err := http.Get(srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("enabled=%v: status %d", enabled, resp.StatusCode)
		}
		line := `sgl_router_requests_total{route="/generate"} 1`
		if strings.Contains(string(body), line) != enabled {
			t.Errorf("enabled=%v: body contains %q = %v", enabled, line, !enabled)
		}
		if !strings.Contains(string(body), "sgl_router_active_workers 0") {
			t.Errorf("enabled=%v: unlabelled gauge missing from body", enabled)
		}
		if !strings.Contains(string(body), "go_goroutines") {
			t.Errorf("enabled=%v: Go runtime metrics missing", enabled)
		}
	}
}

func TestConcurrentRecordingCountsEveryCall(t *testing.T) {
	m := New(true)
	const goroutines, perG = 8, 500
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perG {
				m.RecordRequest("/generate", time.Millisecond)
				m.RecordPolicyDecision("random", "w")
				if i%50 == 0 {
					m.ForgetWorker("gone") // must not disturb other series
					m.SetRunning("gone", int64(g))
				}
			}
		}()
	}
	wg.Wait()
	got := samples(t, m)
	if v := got[`sgl_router_requests_total{route="/generate"}`]; v != goroutines*perG {
		t.Errorf("requests = %v, want %d", v, goroutines*perG)
	}
	if v := got[`sgl_router_policy_decisions_total{policy="random",worker="w"}`]; v != goroutines*perG {
		t.Errorf("decisions = %v, want %d", v, goroutines*perG)
	}
}
