package policy

import (
	"context"
	"maps"
	"strings"
	"testing"
	"time"
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
	clk := &testClock{now: time.Unix(1e9, 0)}
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

func (c *CacheAware) state() *cacheTree         { return &c.cacheTree }
func (c *CacheAwareOriginal) state() *cacheTree { return &c.cacheTree }

func TestCacheAware(t *testing.T) {
	cases := []cacheCase{
		{name: "miss picks the least loaded", loads: []int{2, 0, 1},
			text: "hello", want: "http://w1", event: "miss http://w1", recorded: true},
		{name: "miss ties go to the smallest tree", loads: []int{0, 0, 0},
			seeds: []seed{{0, "aaaaaaaaaa"}, {1, "bbb"}, {2, "ccccc"}},
			text:  "zzz", want: "http://w1", event: "miss http://w1", recorded: true},
		{name: "miss prefers load over tree size", loads: []int{1, 0},
			seeds: []seed{{0, "a"}, {1, "bbbbbbbbbbbb"}},
			text:  "zzz", want: "http://w1", event: "miss http://w1", recorded: true},
		{name: "hit picks the matched worker despite its load", loads: []int{0, 0, 5},
			seeds: []seed{{2, "hello world"}},
			text:  "hello world!!", want: "http://w2", event: "hit http://w2", recorded: true},
		{name: "hit picks the least loaded of several tenants", loads: []int{3, 0, 1},
			seeds: []seed{{0, "hello world"}, {2, "hello world"}},
			text:  "hello world", want: "http://w2", event: "hit http://w2", recorded: false},
		{name: "hit on the deepest node only", loads: []int{0, 0, 0},
			seeds: []seed{{0, "hello world"}, {1, "hello there"}},
			text:  "hello there", want: "http://w1", event: "hit http://w1", recorded: false},
		{name: "tenant outside the candidates is a miss", loads: []int{0, 2, 1},
			candidates: []int{1, 2}, seeds: []seed{{0, "hello world"}},
			text: "hello world", want: "http://w2", event: "miss http://w2", recorded: true},
		{name: "rate equal to the threshold is a miss", loads: []int{1, 0},
			seeds: []seed{{0, "abcd"}},
			text:  "abcdefgh", want: "http://w1", event: "miss http://w1", recorded: true},
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
		{name: "difference within the absolute threshold is balanced", loads: []int{32, 0},
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

func TestCacheAwareRemoveWorker(t *testing.T) {
	rec := &recorder{}
	o := DefaultOptions()
	o.Observer = rec
	p := NewCacheAware(o)
	ws := pool(t, 0, 1)
	p.Pick(ws, "hello world") // miss -> w0
	p.RemoveWorker("http://w0")
	if _, ok := p.TreeSizes()["http://w0"]; ok {
		t.Fatalf("w0 still in the tree: %v", p.TreeSizes())
	}
	ws[1].Release()
	p.Pick(ws[1:], "hello world")
	if rec.last() != "miss http://w1" {
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
