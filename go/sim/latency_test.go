package sim

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// latencyConfig: prefill 1 ms per uncached token, decode 10 ms per step,
// real time scale, blocks of 4 tokens.
func latencyConfig() Config {
	return Config{
		TimeScale:           1,
		PrefillTokensPerSec: 1000,
		DecodeTokensPerSec:  100,
		BlockSize:           4,
		MaxRunningRequests:  1,
	}
}

// trace records when each job produced each token, on the manual clock.
type trace struct {
	mu     sync.Mutex
	start  time.Time
	tokens map[*job][]time.Duration
}

func (tr *trace) progress(clk Clock) progress {
	return func(j *job, _ bool) error {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		tr.tokens[j] = append(tr.tokens[j], clk.Now().Sub(tr.start))
		return nil
	}
}

// runTimed admits jobs at the current time, runs them while driving the
// clock (advancing when want jobs sleep) and returns the trace.
func runTimed(t *testing.T, s *Server, clk *manualClock, want int, jobs ...*job) *trace {
	t.Helper()
	tr := &trace{start: clk.Now(), tokens: map[*job][]time.Duration{}}
	if err := s.eng.admit(jobs); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.eng.run(context.Background(), j, tr.progress(clk)); err != nil {
				t.Error(err)
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	clk.drive(t, done, want)
	return tr
}

func newJob(s *Server, prompt []int, maxNew int) *job {
	return &job{prompt: prompt, out: s.eng.tok.generate(0, prompt, 0, maxNew)}
}

func ms(v ...int) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, x := range v {
		out[i] = time.Duration(x) * time.Millisecond
	}
	return out
}

func TestLatencyPrefillProportionalToUncachedTokens(t *testing.T) {
	clk := newManualClock()
	s, err := NewServer(latencyConfig(), 0, WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	first := newJob(s, seq(0, 100), 3)
	tr := runTimed(t, s, clk, 1, first)
	// 100 uncached tokens = 100 ms prefill, then 10 ms per further token.
	if got := tr.tokens[first]; !slices.Equal(got, ms(100, 110, 120)) {
		t.Fatalf("first request tokens at %v", got)
	}
	if first.ttft != 100*time.Millisecond || first.e2e != 120*time.Millisecond || first.cached != 0 {
		t.Fatalf("ttft %v e2e %v cached %d", first.ttft, first.e2e, first.cached)
	}
	// The same prompt again: 96 tokens cached (24 whole blocks), 4 to prefill.
	again := newJob(s, seq(0, 100), 2)
	tr = runTimed(t, s, clk, 1, again)
	if again.cached != 96 || !slices.Equal(tr.tokens[again], ms(4, 14)) {
		t.Fatalf("repeat: cached %d, tokens at %v", again.cached, tr.tokens[again])
	}
}

func TestLatencyQueueingWhenBatchIsFull(t *testing.T) {
	clk := newManualClock()
	s, err := NewServer(latencyConfig(), 0, WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	a := newJob(s, seq(0, 100), 3)   // runs at once: tokens at 100, 110, 120
	b := newJob(s, seq(1000, 50), 2) // waits for a: starts at 120, prefill 50 ms
	tr := runTimed(t, s, clk, 1, a, b)
	if got := tr.tokens[a]; !slices.Equal(got, ms(100, 110, 120)) {
		t.Fatalf("a tokens at %v", got)
	}
	if got := tr.tokens[b]; !slices.Equal(got, ms(170, 180)) {
		t.Fatalf("b tokens at %v", got)
	}
	if b.queueWait != 120*time.Millisecond || b.ttft != 170*time.Millisecond {
		t.Fatalf("b queue wait %v ttft %v, want 120ms 170ms", b.queueWait, b.ttft)
	}
}

func TestLatencyDecodeStepGrowsWithBatch(t *testing.T) {
	clk := newManualClock()
	cfg := latencyConfig()
	cfg.MaxRunningRequests = 2
	cfg.DecodeBatchSlope = 1 // two running: each step 20 ms
	s, err := NewServer(cfg, 0, WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	// b's 20-token prefill follows a's on the lane, ending at 40 ms.
	a := newJob(s, seq(0, 20), 3)
	b := newJob(s, seq(500, 20), 2)
	tr := runInOrder(t, s, clk, 2, a, b)
	if !slices.Equal(tr.tokens[a], ms(20, 40, 60)) || !slices.Equal(tr.tokens[b], ms(40, 60)) {
		t.Fatalf("tokens at %v and %v, want 20 40 60 and 40 60 ms", tr.tokens[a], tr.tokens[b])
	}
}

func TestLatencyTimeScale(t *testing.T) {
	clk := newManualClock()
	cfg := latencyConfig()
	cfg.TimeScale = 0.1
	cfg.PrefillOverheadMs = 50
	s, err := NewServer(cfg, 0, WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	j := newJob(s, seq(0, 100), 2)
	tr := runTimed(t, s, clk, 1, j)
	// (50 ms + 100 ms) * 0.1 = 15 ms; step 10 ms * 0.1 = 1 ms.
	if got := tr.tokens[j]; !slices.Equal(got, ms(15, 16)) {
		t.Fatalf("tokens at %v", got)
	}
}

func TestLatencyTimeScaleZeroNeverSleeps(t *testing.T) {
	clk := newManualClock()
	cfg := latencyConfig()
	cfg.TimeScale = 0
	s, err := NewServer(cfg, 0, WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	j := newJob(s, seq(0, 1000), 50)
	if err := s.eng.admit([]*job{j}); err != nil {
		t.Fatal(err)
	}
	if err := s.eng.run(context.Background(), j, func(*job, bool) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if j.e2e != 0 || j.emitted != 50 || clk.numSleepers() != 0 {
		t.Fatalf("e2e %v emitted %d", j.e2e, j.emitted)
	}
}

func TestLatencyCancelledJobFreesItsSlot(t *testing.T) {
	clk := newManualClock()
	s, err := NewServer(latencyConfig(), 0, WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	a, b := newJob(s, seq(0, 100), 3), newJob(s, seq(900, 8), 1)
	if err := s.eng.admit([]*job{a, b}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.eng.run(ctx, a, func(*job, bool) error { return nil }) }()
	for clk.numSleepers() == 0 {
		time.Sleep(50 * time.Microsecond) // a is in its prefill
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("run: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.eng.run(context.Background(), b, func(*job, bool) error { return nil }); err != nil {
			t.Error(err)
		}
	}()
	clk.drive(t, done, 1)
	if st := s.Stats(); st.Aborted != 1 || st.Requests != 1 || st.Running != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestLatencyShortStepsAreGrouped(t *testing.T) {
	clk := newManualClock()
	cfg := latencyConfig()
	cfg.TimeScale = 0.01 // step 100 µs, below minSleep
	s, err := NewServer(cfg, 0, WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	j := newJob(s, seq(0, 100), 25)
	tr := runTimed(t, s, clk, 1, j)
	got := tr.tokens[j]
	// Prefill 1 ms; then sleeps only every 10 steps (1 ms) and at the end.
	if got[0] != time.Millisecond || got[24] != 3400*time.Microsecond {
		t.Fatalf("first token at %v, last at %v", got[0], got[24])
	}
	distinct := slices.Compact(slices.Clone(got))
	if len(distinct) != 4 { // 1 ms, 2 ms, 3 ms, 3.4 ms
		t.Fatalf("token times %v", distinct)
	}
}

func TestPrefillLaneBook(t *testing.T) {
	t0 := time.Unix(0, 0)
	at := func(msec int) time.Time { return t0.Add(time.Duration(msec) * time.Millisecond) }
	var l prefillLane
	steps := []struct {
		name           string
		now, work, end int // milliseconds
	}{
		{"idle lane starts at once", 0, 10, 10},
		{"busy lane queues behind earlier work", 5, 10, 20},
		{"queues behind all booked work", 6, 1, 21},
		{"idle time is not banked", 30, 5, 35},
		{"no work ends now", 40, 0, 40},
	}
	for _, st := range steps {
		if got := l.book(at(st.now), time.Duration(st.work)*time.Millisecond); !got.Equal(at(st.end)) {
			t.Fatalf("%s: ends at %v, want %d ms", st.name, got.Sub(t0), st.end)
		}
	}
}

// runInOrder is runTimed with the jobs started one at a time, each once
// the previous one sleeps in its prefill, so they book the prefill lane
// in order. Every job must reach its prefill at once (a free batch slot).
func runInOrder(t *testing.T, s *Server, clk *manualClock, want int, jobs ...*job) *trace {
	t.Helper()
	tr := &trace{start: clk.Now(), tokens: map[*job][]time.Duration{}}
	if err := s.eng.admit(jobs); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.eng.run(context.Background(), j, tr.progress(clk)); err != nil {
				t.Error(err)
			}
		}()
		for clk.numSleepers() <= i {
			time.Sleep(50 * time.Microsecond)
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	clk.drive(t, done, want)
	return tr
}

func TestLatencyPrefillsShareTheServerLane(t *testing.T) {
	cases := []struct {
		name       string
		overheadMs float64
		a, b       []time.Duration // token times
	}{
		// a's 100 tokens take the lane for 100 ms; b's 50 follow them.
		{"b's prefill waits for a's", 0, ms(100, 110, 120, 130, 140, 150), ms(150)},
		// The overhead delays each request but does not hold the lane.
		{"overhead does not hold the lane", 20, ms(120, 130, 140, 150, 160, 170), ms(170)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clk := newManualClock()
			cfg := latencyConfig()
			cfg.MaxRunningRequests = 2
			cfg.PrefillOverheadMs = c.overheadMs
			s, err := NewServer(cfg, 0, WithClock(clk))
			if err != nil {
				t.Fatal(err)
			}
			a, b := newJob(s, seq(0, 100), 6), newJob(s, seq(1000, 50), 1)
			tr := runInOrder(t, s, clk, 2, a, b)
			if !slices.Equal(tr.tokens[a], c.a) || !slices.Equal(tr.tokens[b], c.b) {
				t.Fatalf("a tokens at %v, b at %v; want %v and %v", tr.tokens[a], tr.tokens[b], c.a, c.b)
			}
			if b.queueWait != 0 || b.ttft != c.b[0] {
				t.Fatalf("b: queue wait %v (the batch had room), ttft %v", b.queueWait, b.ttft)
			}
		})
	}
}

func TestLatencyCachedPromptBarelyUsesTheLane(t *testing.T) {
	clk := newManualClock()
	cfg := latencyConfig()
	cfg.MaxRunningRequests = 2
	s, err := NewServer(cfg, 0, WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	// b extends a's prompt: admitted after a, it finds a's 100 tokens
	// cached and books 10 ms of lane behind a's 100.
	a, b := newJob(s, seq(0, 100), 2), newJob(s, seq(0, 110), 1)
	tr := runInOrder(t, s, clk, 2, a, b)
	if b.cached != 100 || !slices.Equal(tr.tokens[a], ms(100, 110)) || !slices.Equal(tr.tokens[b], ms(110)) {
		t.Fatalf("b cached %d; tokens at %v and %v", b.cached, tr.tokens[a], tr.tokens[b])
	}
}

// TestQueuedRequestCanLoseItsHit: a prefix is looked up when its request
// is scheduled, and a running request's KV takes cache room, so a request
// queued behind one that needs the room finds its prefix evicted (looked
// up on arrival it would have counted 12 cached tokens).
func TestQueuedRequestCanLoseItsHit(t *testing.T) {
	clk := newManualClock()
	cfg := latencyConfig()
	cfg.CacheCapacityTokens = 32 // 8 blocks
	s, err := NewServer(cfg, 0, WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	runTimed(t, s, clk, 1, newJob(s, seq(0, 13), 1)) // caches 3 blocks of the prompt
	a := newJob(s, seq(1000, 20), 3)                 // runs: 5 blocks cached + 6 held
	b := newJob(s, seq(0, 13), 1)                    // queued behind a
	runTimed(t, s, clk, 1, a, b)
	if a.cached != 0 || b.cached != 0 {
		t.Fatalf("cached a=%d b=%d, want 0 and 0: b's prefix was evicted while it waited", a.cached, b.cached)
	}
	again := newJob(s, seq(0, 13), 1)
	runTimed(t, s, clk, 1, again)
	if again.cached != 12 {
		t.Fatalf("alone the prompt hits %d tokens, want 12", again.cached)
	}
}
