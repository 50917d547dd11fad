package policy

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sgl-project/sglang-router-go/go/worker"
)

// pollAll records a /get_load answer of own in-flight count + extra on
// every worker.
func pollAll(ws []*worker.Worker, extra int64) {
	for _, w := range ws {
		w.SetPolledLoad(w.Load() + extra)
	}
}

func TestSoloNeedsAWindowOfCleanObservations(t *testing.T) {
	clk := &testClock{now: time.Unix(1000, 0)}
	s := newSolo(clk.Now)
	ws := pool(t, 3, 5, 0)
	pollAll(ws, 0)
	if s.alone(ws) {
		t.Fatal("alone on the first observation")
	}
	clk.advance(soloWindow - time.Nanosecond)
	if s.alone(ws) {
		t.Fatal("alone before the window passed")
	}
	if s.isAlone() {
		t.Fatal("isAlone before the window passed")
	}
	clk.advance(time.Nanosecond)
	if !s.isAlone() || !s.alone(ws) {
		t.Fatal("not alone after a window of clean observations")
	}
	pollAll(ws, 6)
	if s.alone(ws) || s.isAlone() {
		t.Fatal("alone with another router's traffic")
	}
}

func TestSoloFailsToNotAlone(t *testing.T) {
	clk := &testClock{now: time.Unix(1000, 0)}
	cases := []struct {
		name string
		poll func(ws []*worker.Worker)
	}{
		{"another router's traffic", func(ws []*worker.Worker) { pollAll(ws, 6) }},
		{"one worker unpolled", func(ws []*worker.Worker) { ws[1].SetPolledLoad(-1) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSolo(clk.Now)
			ws := pool(t, 4, 4, 4)
			pollAll(ws, 0)
			s.alone(ws)
			clk.advance(soloWindow)
			if !s.alone(ws) {
				t.Fatal("precondition: alone")
			}
			c.poll(ws)
			if s.alone(ws) {
				t.Fatal("still alone")
			}
			pollAll(ws, 0)
			clk.advance(soloWindow - time.Nanosecond)
			if s.alone(ws) {
				t.Fatal("alone again before a full window (hysteresis)")
			}
			clk.advance(soloWindow)
			if !s.alone(ws) {
				t.Fatal("not alone after a clean window")
			}
		})
	}
}

func TestSoloToleratesPollSkew(t *testing.T) {
	clk := &testClock{now: time.Unix(1000, 0)}
	s := newSolo(clk.Now)
	ws := pool(t, 8, 8)
	// 1 per worker + 16/4 = 6 unseen requests are within the slack...
	pollAll(ws, 3)
	s.alone(ws)
	clk.advance(soloWindow)
	if !s.alone(ws) {
		t.Fatal("poll skew within the slack counted as another router")
	}
	// ...7 are not.
	ws[0].SetPolledLoad(ws[0].Load() + 4)
	if s.alone(ws) {
		t.Fatal("traffic beyond the slack not seen")
	}
}

// watchedCacheAware returns a CacheAware on a fake clock that has watched
// ws for a whole soloWindow, every worker polled at its in-flight count
// plus extra (0: alone).
func watchedCacheAware(ws []*worker.Worker, extra int64) (*CacheAware, *testClock) {
	clk := &testClock{now: time.Unix(1000, 0)}
	o := DefaultOptions()
	o.Clock = clk.Now
	p := NewCacheAware(o)
	pollAll(ws, extra)
	p.solo.alone(ws)
	clk.advance(soloWindow)
	return p, clk
}

func TestCacheAwareAloneBalancesAndReplicasHash(t *testing.T) {
	ws := pool(t, 0, 0, 0)
	sizes := []int{5, 1, 9} // w1 has the smallest tree
	text := ""
	for i := 0; text == ""; i++ {
		if s := fmt.Sprintf("prompt %d", i); Home(ws, s).URL() != ws[1].URL() {
			text = s
		}
	}
	for _, c := range []struct {
		name  string
		extra int64
		want  string
	}{
		{"alone: smallest tree", 0, ws[1].URL()},
		{"not alone: rendezvous", 10, Home(ws, text).URL()},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, _ := watchedCacheAware(ws, c.extra)
			for i, n := range sizes {
				p.tree.Insert(fmt.Sprintf("%c%0*d", 'a'+i, n, 0), ws[i].URL())
			}
			if w, why := p.Decide(ws, Request{Text: text}); w.URL() != c.want || why != CacheMiss {
				t.Fatalf("got %s %v, want %s miss", w.URL(), why, c.want)
			}
		})
	}
}

// Replicas behind a Service each see about 1/N of every worker's
// requests, so each worker reports about N times what one replica sent
// it. Under load (a request or more per worker from each replica; two
// with 2 replicas) no replica may take itself to be alone; one router at
// any load is. Two nearly idle replicas may (the slack, see unseenSlack).
func TestSoloReplicasUnderLoadAreNotAlone(t *testing.T) {
	for _, c := range []struct {
		replicas, perWorker int
		alone               bool
	}{
		{1, 0, true}, {1, 4, true}, {1, 30, true},
		{2, 1, true}, {2, 2, false}, {2, 30, false},
		{3, 1, false}, {3, 4, false}, {3, 30, false},
		{8, 1, false}, {8, 30, false},
	} {
		t.Run(fmt.Sprintf("%d replicas %d each", c.replicas, c.perWorker), func(t *testing.T) {
			clk := &testClock{now: time.Unix(1000, 0)}
			s := newSolo(clk.Now)
			loads := make([]int, 8)
			for i := range loads {
				loads[i] = c.perWorker
			}
			ws := pool(t, loads...)
			pollAll(ws, int64((c.replicas-1)*c.perWorker))
			s.alone(ws)
			clk.advance(soloWindow)
			if got := s.alone(ws); got != c.alone {
				t.Fatalf("alone = %v, want %v", got, c.alone)
			}
		})
	}
}

func TestCacheAwareAloneKeepsSessionsFirst(t *testing.T) {
	ws := pool(t, 0, 0, 0, 0)
	p, _ := watchedCacheAware(ws, 0)
	if !p.solo.alone(ws) {
		t.Fatal("precondition: alone")
	}
	want := Sticky(ws, "user-7")
	for _, w := range ws {
		if w != want {
			p.tree.Insert("shared system prompt", w.URL())
		}
	}
	w, why := p.Decide(ws, Request{Text: "shared system prompt", Session: "user-7"})
	if w != want || why != Session {
		t.Fatalf("got %s %v, want %s session", urlOf(w), why, want.URL())
	}
}

// Polls, picks and releases race with one another on a router that is
// alone; run with -race. Every pick must be a candidate.
func TestCacheAwareAloneConcurrentPollsAndPicks(t *testing.T) {
	ws := pool(t, 0, 0, 0, 0)
	p, clk := watchedCacheAware(ws, 0)
	stop := make(chan struct{})
	var poller sync.WaitGroup
	poller.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				pollAll(ws, 0)
				clk.advance(time.Millisecond)
			}
		}
	})
	var pickers sync.WaitGroup
	for g := range 4 {
		pickers.Go(func() {
			for i := range 300 {
				w, _ := p.Decide(ws, Request{Text: fmt.Sprintf("prompt %d of %d", i%17, g)})
				if !slices.Contains(ws, w) {
					t.Errorf("picked %s, not a candidate", urlOf(w))
					return
				}
				if i%3 == 0 {
					w.Acquire()
					defer w.Release()
				}
			}
		})
	}
	pickers.Wait()
	close(stop)
	poller.Wait()
}

// TestCacheAwareAloneIgnoresTheFirstTokenWeight: a lone router keeps a
// hit on the tenant of the prefix while that tenant's load is under the
// hot bound, however many of its requests wait for their first token;
// replicas, which see only their share of those, weigh them (busy).
func TestCacheAwareAloneIgnoresTheFirstTokenWeight(t *testing.T) {
	ws := pool(t, 2, 2, 2, 2)
	const text = "a system prompt shared by many requests, then a question"
	for _, c := range []struct {
		name  string
		extra int64
		hit   bool
	}{
		{"alone", 0, true},
		{"not alone", 10, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, _ := watchedCacheAware(ws, c.extra)
			p.tree.Insert(text, ws[0].URL())
			ws[0].StartPrefill()
			ws[0].StartPrefill() // busy 2+8 = 10: overloaded by busy, not by load
			defer ws[0].EndPrefill()
			defer ws[0].EndPrefill()
			w, why := p.Decide(ws, Request{Text: text})
			if got := w == ws[0] && why == CacheHit; got != c.hit {
				t.Fatalf("got %s (%v); want a hit on %s: %v", w.URL(), why, ws[0].URL(), c.hit)
			}
		})
	}
}
