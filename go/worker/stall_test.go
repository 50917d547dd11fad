package worker

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func healthyWorkers(n int) []*Worker {
	ws := make([]*Worker, n)
	for i := range ws {
		ws[i] = New("http://w"+string(rune('0'+i)), Regular, nil)
		ws[i].SetHealthy(true)
	}
	return ws
}

// step advances the clock by one check period, lets every worker but the
// silent ones answer a request, and runs a check.
func step(s *Stalls, c *fakeClock, pool []*Worker, silent ...*Worker) []*Worker {
	c.advance(time.Second)
	for _, w := range pool {
		if !contains(silent, w) {
			w.Acquire()
			w.Answered()
			w.Release()
		}
	}
	return s.Check(pool)
}

func contains(ws []*Worker, w *Worker) bool {
	for _, x := range ws {
		if x == w {
			return true
		}
	}
	return false
}

func TestStallMarksAWorkerThatAnswersNothingWhileOthersDo(t *testing.T) {
	c := &fakeClock{t: time.Unix(1000, 0)}
	s := &Stalls{Timeout: 5 * time.Second, Now: c.now}
	pool := healthyWorkers(3)
	hung := pool[1]
	step(s, c, pool)
	hung.Acquire() // a request that never gets an answer
	for i := 1; i <= 5; i++ {
		if got := step(s, c, pool, hung); len(got) != 0 {
			t.Fatalf("marked %d workers after %d s; the timeout is 5 s", len(got), i)
		}
	}
	got := step(s, c, pool, hung)
	if len(got) != 1 || got[0] != hung || !hung.Stalled() || hung.Available(c.t) || hung.CircuitState(c.t) != CircuitStalled {
		t.Fatalf("after 6 s silent: marked %v, stalled %v", got, hung.Stalled())
	}
	for _, w := range []*Worker{pool[0], pool[2]} {
		if w.Stalled() || !w.Available(c.t) {
			t.Errorf("%s answers and must stay in rotation", w.URL())
		}
	}
	hung.Answered() // its old request finally answered: back at once
	if hung.Stalled() || !hung.Available(c.t) {
		t.Fatal("a stalled worker that answers must be back in rotation")
	}
}

func TestStallSparesAPoolThatIsSlowEverywhere(t *testing.T) {
	c := &fakeClock{t: time.Unix(1000, 0)}
	s := &Stalls{Timeout: 5 * time.Second, Now: c.now}
	pool := healthyWorkers(2)
	for _, w := range pool {
		w.Acquire()
	}
	for i := 0; i < 20; i++ {
		if got := step(s, c, pool, pool...); len(got) != 0 {
			t.Fatalf("marked %v though no worker answers: the pool is loaded, not one worker stalled", got)
		}
	}
}

func TestStallSparesAnIdleWorkerThatJustGotARequest(t *testing.T) {
	c := &fakeClock{t: time.Unix(1000, 0)}
	s := &Stalls{Timeout: 5 * time.Second, Now: c.now}
	pool := healthyWorkers(2)
	idle := pool[1]
	for i := 0; i < 10; i++ {
		step(s, c, pool, idle) // idle: nothing in flight, nothing answered
	}
	idle.Acquire()
	for i := 0; i < 5; i++ {
		if got := step(s, c, pool, idle); len(got) != 0 {
			t.Fatalf("an idle worker was marked %d s after its first request", i+1)
		}
	}
}

func TestStallProbeReturnsAWorkerThatAnswersAgain(t *testing.T) {
	var hung atomic.Bool
	hung.Store(true)
	var probes atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health_generate" {
			t.Errorf("probed %s", r.URL.Path)
		}
		probes.Add(1)
		if hung.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	c := &fakeClock{t: time.Unix(1000, 0)}
	var changes []bool
	s := &Stalls{Client: srv.Client(), Timeout: 5 * time.Second, ProbeTimeout: 5 * time.Second, Now: c.now,
		OnChange: func(_ *Worker, stalled bool) { changes = append(changes, stalled) }}
	w := New(srv.URL, Regular, nil)
	w.progress.stalled.Store(true)
	if s.ProbeOne(context.Background(), w) || !w.Stalled() {
		t.Fatal("a failing probe must keep the worker stalled")
	}
	hung.Store(false)
	if !s.ProbeOne(context.Background(), w) || w.Stalled() || len(changes) != 1 || changes[0] {
		t.Fatalf("a passing probe must end the stall: stalled %v, changes %v", w.Stalled(), changes)
	}
	if probes.Load() != 2 {
		t.Errorf("%d probes, want 2", probes.Load())
	}
}

func TestBreakerGoesHalfOpenWhenHealthReturns(t *testing.T) {
	w := New("http://a", Regular, nil).WithBreaker(BreakerConfig{FailureThreshold: 1, SuccessThreshold: 1, OpenFor: time.Minute})
	w.SetHealthy(true)
	now := time.Unix(1000, 0)
	w.RecordOutcome(false, now)
	w.breaker.healthChecked(true, now.Add(time.Second))
	if w.CircuitState(now.Add(time.Second)) != CircuitOpen {
		t.Fatal("checks that pass throughout must not end the cool-down (the worker fails requests, not checks)")
	}
	w.breaker.healthChecked(false, now.Add(2*time.Second)) // killed
	back := now.Add(3 * time.Second)
	w.breaker.healthChecked(true, back) // restarted
	if w.CircuitState(back) != CircuitHalfOpen || !w.Available(back) {
		t.Fatalf("a worker back after a failed check must go half-open at once, got state %d", w.CircuitState(back))
	}
	w.RecordOutcome(true, back)
	if w.CircuitState(back) != CircuitClosed {
		t.Fatal("one success closes it")
	}
}

func TestStallsRunMarksAndProbesBack(t *testing.T) {
	var answering atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !answering.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	hung, busy := New(srv.URL, Regular, nil), New("http://busy", Regular, nil)
	reg := NewRegistry()
	_ = reg.Add(hung)
	_ = reg.Add(busy)
	var back atomic.Bool
	s := &Stalls{Client: srv.Client(), Timeout: 200 * time.Millisecond, ProbeTimeout: 5 * time.Second,
		OnChange: func(w *Worker, stalled bool) {
			if w == hung && !stalled {
				back.Store(true)
			}
		}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx, reg) }()
	defer func() { cancel(); <-done }()

	hung.Acquire()
	busy.Acquire()
	waitUntil(t, "the silent worker is marked stalled", func() bool {
		busy.Answered() // the rest of the pool keeps answering
		return hung.Stalled()
	})
	if busy.Stalled() {
		t.Fatal("the answering worker was marked stalled")
	}
	answering.Store(true)
	waitUntil(t, "the probe brings it back", back.Load)
}

// waitUntil polls cond every few milliseconds, failing after a generous 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
