package radix

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// branching yields prompts that branch at every character: for a random
// base S it yields S[:k]+x for every k, x being a character other than
// S[k], so the tree holds a node per character of S, each with a
// one-character leaf beside it. This is the shape that costs the most
// memory per character sent.
type branching struct {
	rng  *rand.Rand
	base []rune
	k    int
}

func newBranching(seed uint64, baseLen int) *branching {
	return &branching{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), base: make([]rune, baseLen), k: baseLen}
}

// alphabet is wide, so random bases rarely share long prefixes.
const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789éü中文字"

func (b *branching) next() string {
	runes := []rune(alphabet)
	if b.k == len(b.base) {
		for i := range b.base {
			b.base[i] = runes[b.rng.IntN(len(runes))]
		}
		b.k = 0
	}
	k := b.k
	b.k++
	x := runes[b.rng.IntN(len(runes))]
	for x == b.base[k] {
		x = runes[b.rng.IntN(len(runes))]
	}
	return string(b.base[:k]) + string(x)
}

func TestMemoryAccountingFollowsInsertsSplitsAndEvictions(t *testing.T) {
	tr, _ := build(t, insert{"hello world", "A"}, insert{"hello there", "B"}, insert{"help", "A"})
	if tr.Bytes() == 0 {
		t.Fatal("a tree with nodes costs nothing")
	}
	a, b := tr.tenant("A").bytes.Load(), tr.tenant("B").bytes.Load()
	if a <= b || a+b <= tr.Bytes() {
		t.Errorf("A %d, B %d, total %d: A holds more nodes; the shared node counts for both", a, b, tr.Bytes())
	}
	tr.RemoveTenant("A")
	checkTree(t, tr)
	tr.RemoveTenant("B")
	checkTree(t, tr)
	if tr.Bytes() != 0 {
		t.Errorf("an empty tree holds %d bytes", tr.Bytes())
	}
}

func TestMemoryLimitIsACeilingForInserts(t *testing.T) {
	const limit = 64 << 10
	tr := New(nil)
	tr.SetMemoryLimit(limit)
	gen := newBranching(1, 200)
	for i := range 20_000 {
		tr.Insert(gen.next(), fmt.Sprint("w", i%4))
		// Checks and additions race only with other inserts; alone, an
		// insert passes the limit by at most one split and one stamp.
		if got := tr.Bytes(); got > limit+1024 {
			t.Fatalf("insert %d: tree holds %d bytes, limit %d", i, got, limit)
		}
	}
	checkTree(t, tr)
	if tr.Bytes() < limit*9/10 {
		t.Fatalf("the inserts never filled the tree (%d of %d bytes); the test proves nothing", tr.Bytes(), limit)
	}
	select {
	case <-tr.Pressure():
	default:
		t.Fatal("crossing the high-water mark did not signal Pressure")
	}
	tr.EvictMemory()
	checkTree(t, tr)
	if got := tr.Bytes(); got > limit*lowWater/100 {
		t.Errorf("after EvictMemory the tree holds %d bytes; want at most %d", got, limit*lowWater/100)
	}
	tr.Insert("a fresh prompt after eviction", "w0")
	if r := tr.Match("a fresh prompt after eviction"); r.Rate() != 1 {
		t.Errorf("the tree did not learn again after eviction: %+v", r)
	}
}

func TestEvictMemoryTrimsTheLargestTenantsOldestLeavesFirst(t *testing.T) {
	clk := newFakeClock()
	tr := New(clk.tick)
	normal := []string{"You are a helpful assistant. Question one?", "You are a helpful assistant. Question two?"}
	for _, p := range normal {
		tr.Insert(p, "normal")
	}
	gen := newBranching(2, 100)
	var first, last string
	for i := range 3000 {
		p := gen.next()
		if i == 0 {
			first = p
		}
		last = p
		tr.Insert(p, "flood")
	}
	tr.SetMemoryLimit(tr.Bytes() * 2 / 3)
	tr.EvictMemory()
	checkTree(t, tr)
	if got, want := tr.Bytes(), tr.memLimit.Load()*lowWater/100; got > want {
		t.Fatalf("tree holds %d bytes after EvictMemory, want at most %d", got, want)
	}
	for _, p := range normal {
		if r := tr.Match(p); r.Rate() != 1 || r.Tenants[0] != "normal" {
			t.Errorf("the small tenant lost %q: %+v", p, r)
		}
	}
	if r := tr.Match(last); r.Rate() != 1 {
		t.Errorf("the flood's newest prompt was evicted: %+v", r)
	}
	if r := tr.Match(first); r.Rate() == 1 && len(r.Tenants) > 0 {
		t.Errorf("the flood's oldest prompt survived: %+v", r)
	}
}

func TestWaterLevel(t *testing.T) {
	for _, tc := range []struct {
		held         []int64
		budget, want int64
	}{
		{[]int64{10, 10, 100}, 60, 40},
		{[]int64{10, 10, 100}, 30, 10},
		{[]int64{10, 10, 100}, 200, 1<<63 - 1},
		{[]int64{50, 50}, 60, 30},
		{[]int64{5}, -1, 0},
	} {
		if got := waterLevel(tc.held, tc.budget); got != tc.want {
			t.Errorf("waterLevel(%v, %d) = %d, want %d", tc.held, tc.budget, got, tc.want)
		}
	}
}

func TestAllocSizeIsWhatTheAllocatorTakes(t *testing.T) {
	// n -> Go's size class (or page-rounded size) for an n-byte object.
	for n, class := range map[int]int64{1: 8, 16: 16, 17: 24, 152: 160, 300: 320, 900: 1024, 1000: 1024, 1025: 1152, 5000: 5376, 100_000: 106_496} {
		if got := allocSize(n); got != class {
			t.Errorf("allocSize(%d) = %d; the allocator takes %d", n, got, class)
		}
	}
	if allocSize(0) != 0 {
		t.Error("allocSize(0) != 0")
	}
}

// TestAdversarialPromptsKeepTheHeapWithinTheBudget is the target:
// prompts that branch at every character, inserted for 8 workers from two
// goroutines while an evictor answers Pressure (as the cache_aware policy
// does), keep the live heap the tree holds within 1.2x its memory budget.
// It is a memory bound, measured with runtime.ReadMemStats after a GC,
// never a time bound. The samples pause the inserters (not the evictor):
// a GC that runs while they allocate counts their fresh garbage (prompt
// strings) as live, which is the test's allocation rate, not the tree.
func TestAdversarialPromptsKeepTheHeapWithinTheBudget(t *testing.T) {
	const budget = 8 << 20
	peak, filled := adversarialRun(t, budget, 3*budget)
	t.Logf("budget %d MiB: peak live heap %.1f MiB (%.2fx), tree reached %.2fx of its budget",
		budget>>20, float64(peak)/(1<<20), float64(peak)/budget, filled)
	if filled < 0.8 {
		t.Fatalf("the tree reached only %.2f of its budget; the test proves nothing", filled)
	}
	if float64(peak) > 1.2*budget {
		t.Fatalf("peak live heap %d bytes is %.2fx the budget %d; want at most 1.2x", peak, float64(peak)/budget, budget)
	}
}

// adversarialRun inserts branching prompts until their characters would
// cost about send bytes in an unbounded tree, sampling the live heap, and
// returns the largest sample and the largest Bytes()/budget seen.
func adversarialRun(t testing.TB, budget, send int64) (peak int64, filled float64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := int64(ms.HeapAlloc)

	tr := New(nil)
	tr.SetMemoryLimit(budget)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var evictions atomic.Int64
	wg.Go(func() { // the policy's upkeep loop
		for {
			select {
			case <-stop:
				return
			case <-tr.Pressure():
				tr.EvictMemory()
				evictions.Add(1)
			}
		}
	})
	const perNode = 2 * 200 // a character makes a path node and a leaf, ~200 bytes each
	var sent atomic.Int64
	var inserters sync.WaitGroup
	var pause sync.RWMutex // held for reading by each insert, for writing by a sample
	for g := range 2 {
		inserters.Go(func() {
			gen := newBranching(uint64(10+g), 256)
			for i := 0; sent.Load() < send; i++ {
				p := gen.next()
				pause.RLock()
				tr.Insert(p, benchTenants[(i+g)%len(benchTenants)])
				pause.RUnlock()
				sent.Add(perNode)
			}
		})
	}
	sample := func() {
		pause.Lock()
		defer pause.Unlock()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		peak = max(peak, int64(ms.HeapAlloc)-base)
		filled = max(filled, float64(tr.Bytes())/float64(budget))
	}
	done := make(chan struct{})
	go func() { inserters.Wait(); close(done) }()
	for next := send / 40; next <= send; next += send / 40 {
		wait(done, func() bool { return sent.Load() >= next })
		sample()
	}
	<-done
	sample()
	close(stop)
	wg.Wait()
	if evictions.Load() == 0 {
		t.Fatal("no eviction ran")
	}
	runtime.KeepAlive(tr)
	return peak, filled
}

// wait polls cond until it holds or done is closed.
func wait(done <-chan struct{}, cond func() bool) {
	for !cond() {
		select {
		case <-done:
			return
		case <-time.After(time.Millisecond):
		}
	}
}
