package worker

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRegistryAddRemoveNotifies(t *testing.T) {
	r := NewRegistry()
	var removed []string
	r.OnRemove(func(w *Worker) { removed = append(removed, w.URL()) })
	a, b := New("http://a", Regular, nil), New("http://b", Regular, nil)
	if r.Add(a) != nil || r.Add(b) != nil {
		t.Fatal("add failed")
	}
	if err := r.Add(New("http://a", Regular, nil)); err != ErrExists {
		t.Fatalf("duplicate add: %v", err)
	}
	before := r.Snapshot()
	if _, err := r.Remove("http://a"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Remove("http://a"); err != ErrNotFound {
		t.Fatalf("second remove: %v", err)
	}
	if len(before) != 2 || len(r.Snapshot()) != 1 || r.Get("http://b") != b {
		t.Error("snapshots must be immutable and the registry updated")
	}
	if len(removed) != 1 || removed[0] != "http://a" {
		t.Errorf("listeners saw %v", removed)
	}
}

func TestRegistryConcurrentReadersAndWriters(t *testing.T) {
	r := NewRegistry()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for j := range 200 {
				url := "http://w" + string(rune('a'+i)) + string(rune('a'+j%26))
				_ = r.Add(New(url, Regular, nil))
				_, _ = r.Remove(url)
			}
		}()
		go func() {
			defer wg.Done()
			for range 200 {
				for _, w := range r.Snapshot() {
					_ = w.Load()
				}
			}
		}()
	}
	wg.Wait()
}

func TestHealthHysteresis(t *testing.T) {
	w := New("http://a", Regular, nil)
	steps := []struct {
		ok      bool
		healthy bool
	}{
		{false, false}, {true, true}, // first success admits at once
		{false, true}, {false, true}, {false, false}, // three failures to go down
		{true, false}, {true, true}, // two successes to come back
	}
	for i, s := range steps {
		w.RecordHealth(s.ok, 3, 2)
		if w.Healthy() != s.healthy {
			t.Fatalf("step %d: healthy=%v, want %v", i, w.Healthy(), s.healthy)
		}
	}
}

func TestBreakerOpensAndRecovers(t *testing.T) {
	w := New("http://a", Regular, nil).WithBreaker(BreakerConfig{FailureThreshold: 2, SuccessThreshold: 1, OpenFor: time.Second})
	w.SetHealthy(true)
	now := time.Unix(1000, 0)
	if w.RecordOutcome(false, now) || !w.Available(now) {
		t.Fatal("one failure must not open the circuit")
	}
	if !w.RecordOutcome(false, now) || w.Available(now) || w.CircuitState(now) != CircuitOpen {
		t.Fatal("two failures must open the circuit")
	}
	later := now.Add(time.Second)
	if !w.Available(later) || w.CircuitState(later) != CircuitHalfOpen {
		t.Fatal("after OpenFor the circuit must be half-open")
	}
	w.RecordOutcome(true, later)
	if w.CircuitState(later) != CircuitClosed {
		t.Fatal("a half-open success must close the circuit")
	}
}

func TestCheckerMarksWorkersAndReportsChanges(t *testing.T) {
	var status atomic.Int32
	status.Store(200)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(int(status.Load()))
	}))
	defer srv.Close()
	reg := NewRegistry()
	w := New(srv.URL, Regular, nil)
	_ = reg.Add(w)
	var changes []bool
	c := &Checker{Client: srv.Client(), Interval: time.Hour, Timeout: time.Second, FailureThreshold: 1, SuccessThreshold: 1,
		OnChange: func(_ *Worker, h bool) { changes = append(changes, h) }}
	c.CheckAll(context.Background(), reg)
	status.Store(500)
	c.CheckAll(context.Background(), reg)
	if len(changes) != 2 || !changes[0] || changes[1] || w.Healthy() {
		t.Fatalf("changes %v healthy %v", changes, w.Healthy())
	}
}

func TestParseLoad(t *testing.T) {
	cases := map[string]int64{
		`{"num_reqs": 4}`:                    4,
		`[{"num_reqs": 1}, {"num_reqs": 2}]`: 3,
		`{"load": 9}`:                        9,
		`{"other": 1}`:                       -1,
		`garbage`:                            -1,
	}
	for in, want := range cases {
		if got := ParseLoad([]byte(in)); got != want {
			t.Errorf("ParseLoad(%s) = %d, want %d", in, got, want)
		}
	}
}

func TestEstimatedLoadCorrectsAStalePoll(t *testing.T) {
	w := New("http://a", Regular, nil)
	w.Acquire()
	if w.EstimatedLoad() != 1 {
		t.Fatalf("never polled: %d, want the in-flight count", w.EstimatedLoad())
	}
	w.SetPolledLoad(10) // the worker reports 10, one of them ours
	w.Acquire()
	w.Acquire()
	if got := w.EstimatedLoad(); got != 12 {
		t.Fatalf("after two more dispatches: %d, want 12", got)
	}
	for range 3 {
		w.Release()
	}
	if got := w.EstimatedLoad(); got != 9 {
		t.Fatalf("after three finished: %d, want 9", got)
	}
}

func TestUnseenLoadIsWhatOthersSent(t *testing.T) {
	w := New("http://a", Regular, nil)
	if _, ok := w.UnseenLoad(); ok {
		t.Fatal("never polled, yet known")
	}
	w.Acquire()
	w.Acquire()
	w.SetPolledLoad(7) // 7 at the worker, 2 of them ours
	w.Acquire()        // sent after the poll: not counted against it
	if n, ok := w.UnseenLoad(); !ok || n != 5 {
		t.Fatalf("got %d %v, want 5 true", n, ok)
	}
	w.SetPolledLoad(-1)
	if _, ok := w.UnseenLoad(); ok {
		t.Fatal("unknown answer, yet known")
	}
}

func TestHeadroomFollowsAFullBatch(t *testing.T) {
	w := New("http://a", Regular, nil)
	check := func(what string, want int64, wantOK bool) {
		t.Helper()
		if n, ok := w.Headroom(); n != want || ok != wantOK {
			t.Fatalf("%s: %d %v, want %d %v", what, n, ok, want, wantOK)
		}
	}
	w.Acquire()
	w.SetPolled(40, 0)
	w.Acquire()
	check("never seen full", 0, false)
	w.SetPolled(40, 8) // full at 32 running
	w.Acquire()
	w.Acquire()
	check("two sent since to a full batch", -10, true)
	for range 4 {
		w.Release()
	}
	check("four ended since", -6, true)
	w.SetPolled(30, 0)
	check("below the batch", 2, true)
	w.Acquire()
	w.Acquire()
	w.Acquire()
	check("three sent since", -1, true)
	w.SetPolled(36, 0) // 36 running: the batch grew
	check("the batch grew to 36", 0, true)
	w.SetPolled(40, 2)
	check("full at 38", -2, true)
	w.SetPolled(-1, 0)
	check("unknown answer", 0, false)
}

func TestBreakerWindowForgetsOldFailures(t *testing.T) {
	w := New("http://a", Regular, nil).WithBreaker(BreakerConfig{FailureThreshold: 2, SuccessThreshold: 1, OpenFor: time.Minute, Window: 10 * time.Second})
	t0 := time.Unix(1000, 0)
	if w.RecordOutcome(false, t0) || w.RecordOutcome(false, t0.Add(11*time.Second)) {
		t.Fatal("failures further apart than the window opened the circuit")
	}
	if !w.RecordOutcome(false, t0.Add(15*time.Second)) {
		t.Fatal("two failures within the window must open it")
	}
}

func TestCheckerProbesTheConfiguredEndpoint(t *testing.T) {
	var paths sync.Map
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths.Store(r.URL.Path, true)
		if r.URL.Path != "/ready" {
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	c := &Checker{Client: srv.Client(), Timeout: time.Second, Endpoint: "/ready", FailureThreshold: 1, SuccessThreshold: 1}
	w := New(srv.URL, Regular, nil)
	if !c.CheckOne(context.Background(), w) || !w.Healthy() {
		t.Fatal("a worker answering on the configured endpoint must be healthy")
	}
	if _, asked := paths.Load("/health"); asked {
		t.Fatal("probed /health instead of the configured endpoint")
	}
}
