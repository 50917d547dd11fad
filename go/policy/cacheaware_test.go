package policy

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sgl-project/sglang-router-go/go/worker"
)

// seed is text recorded for a worker before the pick under test.
type seed struct {
	worker int
	text   string
}

type cacheCase struct {
	name       string
	opts       func(*Options) // adjusts DefaultOptions
	loads      []int
	candidates []int // indexes into the pool; nil means all
	seeds      []seed
	text       string
	want       string // picked URL
	event      string // observer's last event
	recorded   bool   // text was recorded for the picked worker
}

func runCacheCase(t *testing.T, c cacheCase, newPolicy func(Options) interface {
	Policy
	TreeSizer
}) {
	rec := &recorder{}
	clk := &testClock{now: time.Unix(1e9, 0), step: time.Second}
	o := DefaultOptions()
	o.Observer, o.Clock = rec, clk.Now
	if c.opts != nil {
		c.opts(&o)
	}
	p := newPolicy(o)
	ws := pool(t, c.loads...)
	for _, s := range c.seeds {
		p.(interface{ state() *cacheTree }).state().tree.Insert(s.text, ws[s.worker].URL())
	}
	cands := ws
	if c.candidates != nil {
		cands = nil
		for _, i := range c.candidates {
			cands = append(cands, ws[i])
		}
	}
	if c.want == rdv {
		c.want = refPlace(c.text, cands)
		c.event += " " + c.want
	}
	before := maps.Clone(p.TreeSizes())
	got := p.Pick(cands, c.text)
	if urlOf(got) != c.want || rec.last() != c.event {
		t.Fatalf("picked %s (%q), want %s (%q)", urlOf(got), rec.last(), c.want, c.event)
	}
	after := p.TreeSizes()
	grew := after[c.want] > before[c.want]
	if grew != c.recorded {
		t.Fatalf("text recorded for %s: %v, want %v (sizes %v -> %v)", c.want, grew, c.recorded, before, after)
	}
}

// rdv as a case's want stands for refPlace's answer.
const rdv = "rendezvous"

// refPlace is where a miss of text goes, computed the long way: the
// candidates ranked by their rendezvous score for the text's first
// missKeyBytes bytes, the first one not hot.
func refPlace(text string, cands []*worker.Worker) string {
	ranked := slices.Clone(cands)
	key := fnv1a(text[:min(len(text), missKeyBytes)])
	slices.SortFunc(ranked, func(a, b *worker.Worker) int { return cmp.Compare(score(key, b.URL()), score(key, a.URL())) })
	mean := pressureOf(cands).mean
	for _, w := range ranked {
		if float64(w.Load()) <= hotFactor*mean+hotSlack {
			return w.URL()
		}
	}
	return "<none>"
}

func (c *CacheAware) state() *cacheTree         { return &c.cacheTree }
func (c *CacheAwareOriginal) state() *cacheTree { return &c.cacheTree }

func TestCacheAware(t *testing.T) {
	cases := []cacheCase{
		// A miss is placed by rendezvous hashing (want rdv: the reference
		// placement below); tree sizes and loads under the hot bound do
		// not matter, so replicas with different histories agree.
		{name: "miss ignores tree sizes", loads: []int{0, 0, 0},
			seeds: []seed{{0, "aaaaaaaaaa"}, {1, "bbb"}, {2, "ccccc"}},
			text:  "zzz", want: rdv, event: "miss", recorded: true},
		{name: "miss ignores loads under the hot bound", loads: []int{2, 0, 1},
			text: "hello", want: rdv, event: "miss", recorded: true},
		// Mean 4, bound 6: w3 is hot and never takes a new prefix, even
		// when hashing ranks it first.
		{name: "miss skips hot workers", loads: []int{3, 3, 3, 7},
			text: "zzz", want: rdv, event: "miss", recorded: true},
		{name: "miss skips a hot first choice", loads: []int{3, 3, 3, 7},
			text: "zzz5", want: rdv, event: "miss", recorded: true},
		{name: "hit picks the matched worker despite a higher load", loads: []int{1, 1, 3},
			seeds: []seed{{2, "hello world"}},
			text:  "hello world!!", want: "http://w2", event: "hit http://w2", recorded: true},
		// Mean 8: the hot bound is 1.25*8 + 1 = 11, and 11 is not above it.
		{name: "hit on a worker at the hot bound", loads: []int{7, 7, 7, 11},
			seeds: []seed{{3, "hello world"}},
			text:  "hello world", want: "http://w3", event: "hit http://w3", recorded: false},
		// Mean 8.5, bound 11.625: w3 is hot, but it holds the prefix and
		// keeps it up to leaveSlack (2) above the bound.
		{name: "a hot worker keeps its prefix up to the leave bound", loads: []int{7, 7, 7, 13},
			seeds: []seed{{3, "hello world"}, {0, "zz"}},
			text:  "hello world", want: "http://w3", event: "hit http://w3", recorded: false},
		// Mean 8.75, bound 11.9375, leave bound 13.9375: w3 is overloaded,
		// so the prefix is placed again among w0..w2.
		{name: "an overloaded worker gives its prefix up", loads: []int{7, 7, 7, 14},
			seeds: []seed{{3, "hello world"}, {0, "zz"}},
			text:  "hello world", want: rdv, event: "miss", recorded: true},
		// Mean 9.5, leave bound 14.875.
		{name: "an overloaded tenant gives way to one that is not", loads: []int{7, 7, 15, 9},
			seeds: []seed{{2, "hello world"}, {3, "hello world"}},
			text:  "hello world", want: "http://w3", event: "hit http://w3", recorded: false},
		{name: "hit on the deepest node only", loads: []int{0, 0, 0},
			seeds: []seed{{0, "hello world"}, {1, "hello there"}},
			text:  "hello there", want: "http://w1", event: "hit http://w1", recorded: false},
		{name: "tenant outside the candidates is a miss", loads: []int{0, 2, 1},
			candidates: []int{1, 2}, seeds: []seed{{0, "hello world"}},
			text: "hello world", want: rdv, event: "miss", recorded: true},
		{name: "rate equal to the threshold is a miss", loads: []int{1, 0},
			seeds: []seed{{0, "abcd"}},
			text:  "abcdefgh", want: rdv, event: "miss", recorded: true},
		{name: "rate above a lower threshold hits", loads: []int{1, 0},
			opts:  func(o *Options) { o.CacheThreshold = 0.4 },
			seeds: []seed{{0, "abcd"}},
			text:  "abcdefgh", want: "http://w0", event: "hit http://w0", recorded: true},
		{name: "cjk match rate counts characters", loads: []int{1, 0},
			seeds: []seed{{0, "你好世界"}},
			text:  "你好世界吗", want: "http://w0", event: "hit http://w0", recorded: true},
		{name: "imbalance picks the least loaded and records", loads: []int{40, 3, 5},
			seeds: []seed{{0, "hello world"}},
			text:  "hello world", want: "http://w1", event: "imbalanced", recorded: true},
		// Mean 28, so w0 is not hot either.
		{name: "difference within the absolute threshold is balanced", loads: []int{32, 32, 32, 32, 32, 32, 32, 0},
			seeds: []seed{{0, "hello world"}},
			text:  "hello world", want: "http://w0", event: "hit http://w0", recorded: false},
		{name: "relative threshold must also be exceeded", loads: []int{100, 60},
			opts:  func(o *Options) { o.BalanceRelThreshold = 2 },
			seeds: []seed{{0, "hello world"}},
			text:  "hello world", want: "http://w0", event: "hit http://w0", recorded: false},
		{name: "empty text is a miss and records nothing", loads: []int{1, 0},
			seeds: []seed{{0, "hello"}},
			text:  "", want: "http://w1", event: "miss http://w1", recorded: false},
		{name: "single candidate", loads: []int{7},
			text: "hello", want: "http://w0", event: "miss http://w0", recorded: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			runCacheCase(t, c, func(o Options) interface {
				Policy
				TreeSizer
			} {
				return NewCacheAware(o)
			})
		})
	}
}

func TestCacheAwareOriginal(t *testing.T) {
	cases := []cacheCase{
		{name: "miss picks the smallest tree whatever its load", loads: []int{9, 0},
			seeds: []seed{{1, "bbbbbbbbbbbb"}},
			text:  "zzz", want: "http://w0", event: "miss http://w0", recorded: true},
		{name: "hit picks the first tenant of the node", loads: []int{9, 0},
			seeds: []seed{{0, "hello world"}, {1, "hello world"}},
			text:  "hello world", want: "http://w0", event: "hit http://w0", recorded: false},
		{name: "hit skips tenants outside the candidates", loads: []int{9, 0, 0},
			candidates: []int{1, 2}, seeds: []seed{{0, "hello world"}, {2, "hello world"}},
			text: "hello world", want: "http://w2", event: "hit http://w2", recorded: false},
		{name: "imbalance picks the least loaded without recording", loads: []int{40, 3},
			text: "hello world", want: "http://w1", event: "imbalanced", recorded: false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			runCacheCase(t, c, func(o Options) interface {
				Policy
				TreeSizer
			} {
				return NewCacheAwareOriginal(o)
			})
		})
	}
}

func TestCacheAwareFollowsRepeatedPrefixes(t *testing.T) {
	p := NewCacheAware(DefaultOptions())
	ws := pool(t, 0, 0, 0, 0)
	system := strings.Repeat("You are a helpful assistant. ", 20)
	first := p.Pick(ws, system+"question one")
	for i := range 10 {
		if got := p.Pick(ws, system+"question "+strings.Repeat("x", i)); got != first {
			t.Fatalf("request %d went to %s, want %s", i, got.URL(), first.URL())
		}
	}
}

// TestCacheAwareHotPrefixSpreads sends one prefix again and again, each
// request staying in flight: its worker keeps it while hot, until it is
// leaveSlack above the hot bound; the prefix then gains a second worker,
// and its requests go to whichever of the two hashing ranks first while
// neither is overloaded.
func TestCacheAwareHotPrefixSpreads(t *testing.T) {
	rec := &recorder{}
	o := DefaultOptions()
	o.Observer = rec
	p := NewCacheAware(o)
	ws := pool(t, 0, 0, 0, 0)
	var got []string
	for i := range 8 {
		w := p.Pick(ws, "You are a helpful assistant. Question "+string(rune('a'+i)))
		got = append(got, strings.Fields(rec.last())[0]+" "+urlOf(w))
		w.Acquire()
	}
	x, y := strings.Fields(got[0])[1], strings.Fields(got[5])[1]
	want := []string{
		"miss " + x, // loads 0 0 0 0
		"hit " + x,  // loads 1 0 0 0: bound 1.3125, leave bound 3.3125
		"hit " + x,  // loads 2 0 0 0: x is hot and keeps the prefix
		"hit " + x,  // loads 3 0 0 0: leave bound 3.9375
		"hit " + x,  // loads 4 0 0 0: leave bound 4.25
		"miss " + y, // loads 5 0 0 0: leave bound 4.5625, x is overloaded
		"hit " + y,  // loads 5 1 0 0: leave bound 4.875
		"",          // loads 5 2 0 0: leave bound 5.1875, neither is overloaded
	}
	want[7] = "hit " + refPlace("You are a helpful assistant.", []*worker.Worker{ws[urlIndex(x)], ws[urlIndex(y)]})
	if x == y || !slices.Equal(got, want) {
		t.Fatalf("picks %v, want %v", got, want)
	}
}

// urlIndex is the pool index of http://wN.
func urlIndex(url string) int {
	var i int
	fmt.Sscanf(url, "http://w%d", &i)
	return i
}

// TestCacheAwareLeavesAFullBatch: a worker whose engine was seen with
// requests waiting for a place in its batch, and is estimated within
// leaveSlack of that batch, is left even by the prefix it holds, and
// takes no new one, while another candidate has room; when none has,
// load decides again and the prefix stays.
func TestCacheAwareLeavesAFullBatch(t *testing.T) {
	p := NewCacheAware(DefaultOptions())
	ws := pool(t, 0, 0, 0, 0)
	for _, w := range ws {
		w.SetPolled(30, 0) // batches never seen full: no bound from them
	}
	const text = "a system prompt shared by many requests, then a question"
	first, why := p.Decide(ws, Request{Text: text})
	if why != CacheMiss {
		t.Fatalf("first request: %v", why)
	}
	if w, why := p.Decide(ws, Request{Text: text}); w != first || why != CacheHit {
		t.Fatalf("second request: %s (%v), want a hit on %s", w.URL(), why, first.URL())
	}
	first.SetPolled(33, 1) // full at 32: one request waits
	first.SetPolled(31, 0) // one place left, fewer than leaveSlack
	second, why := p.Decide(ws, Request{Text: text})
	if second == first || why != CacheMiss {
		t.Fatalf("with its worker's batch nearly full: %s (%v), want a miss elsewhere", second.URL(), why)
	}
	for i := range 50 {
		if w := Home(ws, fmt.Sprintf("new prefix %d", i)); w == first {
			t.Fatal("a worker with a nearly full batch took a new prefix")
		}
	}
	for _, w := range ws {
		w.SetPolled(33, 1)
	}
	if w, why := p.Decide(ws, Request{Text: text}); w != refTenant(text, first, second) || why != CacheHit {
		t.Fatalf("no batch with room: %s (%v), want a hit on a tenant", w.URL(), why)
	}
}

// refTenant is the tenant hashing ranks first for text.
func refTenant(text string, tenants ...*worker.Worker) *worker.Worker {
	want := refPlace(text, tenants)
	for _, w := range tenants {
		if w.URL() == want {
			return w
		}
	}
	return nil
}

func TestCacheAwareRemoveWorker(t *testing.T) {
	rec := &recorder{}
	o := DefaultOptions()
	o.Observer = rec
	p := NewCacheAware(o)
	ws := pool(t, 0, 0, 0)
	gone := p.Pick(ws, "hello world")
	p.RemoveWorker(gone.URL())
	if _, ok := p.TreeSizes()[gone.URL()]; ok {
		t.Fatalf("%s still in the tree: %v", gone.URL(), p.TreeSizes())
	}
	rest := slices.DeleteFunc(slices.Clone(ws), func(w *worker.Worker) bool { return w == gone })
	w := p.Pick(rest, "hello world")
	if rec.last() != "miss "+urlOf(w) {
		t.Fatalf("after removal the text should miss, got %q", rec.last())
	}
}

func TestCacheAwareRunEvicts(t *testing.T) {
	o := DefaultOptions()
	o.MaxTreeSize, o.EvictionInterval = 10, 5*time.Millisecond
	p := NewCacheAware(o)
	ws := pool(t, 0, 0)
	for i := range 20 {
		p.Pick(ws, strings.Repeat(string(rune('a'+i)), 30))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for !fitsIn(p.TreeSizes(), 10) {
		if time.Now().After(deadline) {
			t.Fatalf("sizes %v never fell to 10", p.TreeSizes())
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func fitsIn(sizes map[string]int, limit int) bool {
	for _, n := range sizes {
		if n > limit {
			return false
		}
	}
	return true
}

func TestCacheAwareEvictsWhenAnInsertCrossesTheMemoryBudget(t *testing.T) {
	const budget = 256 << 10
	o := DefaultOptions()
	o.MaxTreeMemory, o.EvictionInterval = budget, time.Hour // only an insert can trigger eviction
	p := NewCacheAware(o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	ws := pool(t, 0, 0, 0, 0)
	base := strings.Repeat("x", 200)
	var peak int64
	for i := range 200 { // prompts that branch at every other character
		for k := 0; k < len(base); k += 2 {
			p.Pick(ws, base[:k]+string(rune('a'+i%26))+string(rune('A'+i/26)))
			peak = max(peak, p.tree.Bytes())
			if peak > budget+4096 {
				t.Fatalf("the tree holds %d bytes, over its %d-byte budget", peak, budget)
			}
		}
	}
	if peak <= budget*9/10 {
		t.Fatalf("the tree never passed the high-water mark (%d of %d bytes); the test proves nothing", peak, budget)
	}
	deadline := time.Now().Add(30 * time.Second)
	for p.tree.Bytes() > budget*9/10 {
		if time.Now().After(deadline) {
			t.Fatalf("the tree stayed at %d bytes, above the high-water mark of its %d-byte budget", p.tree.Bytes(), budget)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestCacheAwareRecordAnswer: a follow-up turn that resends a long answer
// with a short question matches the worker that wrote the answer once it
// was recorded, and falls under the threshold (a miss) when it was not.
func TestCacheAwareRecordAnswer(t *testing.T) {
	turn1 := "You are a coding assistant. How do I reverse a list?"
	answer := strings.Repeat("Use slices.Reverse, which reverses in place. ", 20)
	turn2 := turn1 + " " + answer + " And a string?"
	for _, record := range []bool{false, true} {
		p := NewCacheAware(DefaultOptions())
		ws := pool(t, 0, 0, 0, 0)
		first, _ := p.Decide(ws, Request{Text: turn1})
		if record {
			p.RecordAnswer(first.URL(), turn1+" "+answer)
		}
		w, why := p.Decide(ws, Request{Text: turn2})
		switch {
		case record && (w != first || why != CacheHit):
			t.Errorf("recorded: turn 2 went to %s (%s), want %s by cache_hit", w.URL(), why, first.URL())
		case !record && why != CacheMiss:
			t.Errorf("not recorded: turn 2 was a %s, want cache_miss (the test's premise)", why)
		}
	}
}

// TestCacheAwareRecordAnswerRespectsTheMemoryBudget: answers are inserts
// like any other, evicted back under the tree's budget.
func TestCacheAwareRecordAnswerRespectsTheMemoryBudget(t *testing.T) {
	o := DefaultOptions()
	o.MaxTreeMemory = 256 << 10
	p := NewCacheAware(o)
	for i := range 200 {
		p.RecordAnswer("http://w0", fmt.Sprintf("%d %s", i, strings.Repeat("answer ", 1000)))
		p.tree.EvictMemory()
	}
	if b := p.tree.Bytes(); b > o.MaxTreeMemory {
		t.Errorf("tree holds %d bytes, budget %d", b, o.MaxTreeMemory)
	}
}

// TestCacheAwareCountsRequestsWaitingForTheirFirstToken: a request still
// waiting for its first token weighs prefillWeight more in the hot rule,
// so a worker with one in its prefill queue takes no new prefix while the
// others have only decoding requests, yet keeps the prefix it holds (its
// leave bound is higher).
func TestCacheAwareCountsRequestsWaitingForTheirFirstToken(t *testing.T) {
	p := NewCacheAware(DefaultOptions())
	ws := pool(t, 4, 4, 4, 4)
	const text = "a system prompt shared by many requests, then a question"
	home, why := p.Decide(ws, Request{Text: text})
	if why != CacheMiss {
		t.Fatalf("first request: %v", why)
	}
	takesNew := func() bool {
		for i := range 64 {
			if Home(ws, fmt.Sprintf("new prefix %d", i)) == home {
				return true
			}
		}
		return false
	}
	if !takesNew() {
		t.Fatal("with equal loads the worker took none of 64 new prefixes")
	}
	home.StartPrefill() // busy 4+4 = 8; mean load 4, bound 6, leave bound 8
	if takesNew() {
		t.Fatal("a worker with a request waiting for its first token took a new prefix")
	}
	if w, why := p.Decide(ws, Request{Text: text}); w != home || why != CacheHit {
		t.Fatalf("the prefix's worker: got %s (%v), want a hit on %s", w.URL(), why, home.URL())
	}
	home.EndPrefill()
	if !takesNew() {
		t.Fatal("after its first token the worker still took no new prefix")
	}
}
