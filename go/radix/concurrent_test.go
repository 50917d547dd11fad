package radix

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestConcurrentUse runs inserts, matches, evictions and tenant removals
// together (meant for -race), then checks the tree is consistent.
func TestConcurrentUse(t *testing.T) {
	tr := New(nil)
	prompts := promptSet(200, 300)
	tenants := []string{"http://w0", "http://w1", "http://w2", "http://w3"}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 9))
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				p := prompts[rng.IntN(len(prompts))]
				if r := tr.Match(p); r.Matched > r.Total {
					t.Errorf("matched %d of %d", r.Matched, r.Total)
				}
				tr.Insert(p[:rng.IntN(len(p))+1], tenants[rng.IntN(len(tenants))])
			}
		})
	}
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				tr.Evict(2000)
				time.Sleep(time.Millisecond)
			}
		}
	})
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				tr.RemoveTenant(tenants[i%len(tenants)])
			}
		}
	})
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	checkTree(t, tr)
	tr.Evict(2000)
	for name, n := range tr.Sizes() {
		if n > 2000 {
			t.Errorf("%s holds %d chars after a quiet Evict(2000)", name, n)
		}
	}
	checkTree(t, tr)
}

// TestEvictBoundsRandomStream feeds never-repeating prompts and checks the
// tree's own accounting (and its node count) stays bounded by Evict.
func TestEvictBoundsRandomStream(t *testing.T) {
	const limit = 20_000
	tr := New(nil)
	src := randomText(1<<20, 3)
	rng := rand.New(rand.NewPCG(4, 5))
	maxNodes := 0
	for round := range 50 {
		for range 100 {
			off := rng.IntN(len(src) - 1024)
			tr.Insert(src[off:off+200+rng.IntN(800)], fmt.Sprintf("w%d", rng.IntN(3)))
		}
		tr.Evict(limit)
		for name, n := range tr.Sizes() {
			if n > limit {
				t.Fatalf("round %d: %s holds %d > %d chars", round, name, n, limit)
			}
		}
		maxNodes = max(maxNodes, checkTree(t, tr))
	}
	if maxNodes > 3*limit/100 { // prompts average 600 chars; a few nodes each
		t.Fatalf("node count grew to %d", maxNodes)
	}
}

// promptSet returns n prompts sharing a few long prefixes, like chat
// requests under a handful of system prompts.
func promptSet(n, size int) []string {
	rng := rand.New(rand.NewPCG(7, 8))
	systems := []string{randomText(size, 1), randomText(size, 2), "你好，世界🎉" + randomText(size, 3)}
	out := make([]string, n)
	for i := range out {
		out[i] = systems[i%len(systems)] + fmt.Sprintf(" user %d: ", i) + randomText(rng.IntN(size)+1, uint64(i+10))
	}
	return out
}

// randomText returns n pseudo-random characters, mostly ASCII words with
// some multi-byte runes.
func randomText(n int, seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, seed*31+1))
	alphabet := []rune("abcdefghijklmnopqrstuvwxyz     .,éü中文字🎉")
	var b strings.Builder
	for range n {
		b.WriteRune(alphabet[rng.IntN(len(alphabet))])
	}
	return b.String()
}

// TestConcurrentSplits has every goroutine insert prefixes of one text, so
// they keep splitting the same nodes, while others match it.
func TestConcurrentSplits(t *testing.T) {
	tr := New(nil)
	text := "你好🎉 " + randomText(600, 11)
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 3))
			for range 500 {
				cut := rng.IntN(len(text)) + 1
				for cut < len(text) && !boundary(text, cut) {
					cut++
				}
				if g%2 == 0 {
					tr.Insert(text[:cut], fmt.Sprint("w", g))
				} else if r := tr.Match(text[:cut]); r.Matched > r.Total {
					t.Errorf("matched %d of %d", r.Matched, r.Total)
				}
			}
		})
	}
	wg.Wait()
	checkTree(t, tr)
	for _, w := range []string{"w0", "w2", "w4"} {
		tr.Insert(text, w)
	}
	if r := tr.Match(text); r.Matched != Count(text) || len(r.Tenants) != 3 {
		t.Fatalf("full text: %+v", r)
	}
	for _, w := range []string{"w0", "w2", "w4"} {
		if got := tr.Size(w); got != Count(text) {
			t.Errorf("%s holds %d chars, want %d", w, got, Count(text))
		}
	}
}

// TestConcurrentMatchedInserts has goroutines match prefixes of one text
// and record them with InsertMatched while the others split the same
// nodes: each recorded prefix must be found whole for its tenant at once,
// and every tenant must hold exactly its longest prefix.
func TestConcurrentMatchedInserts(t *testing.T) {
	tr := New(nil)
	text := "你好🎉 " + randomText(2000, 12)
	longest := make([]int, 6)
	var wg sync.WaitGroup
	for g := range longest {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 4))
			name := fmt.Sprint("w", g)
			for range 300 {
				cut := rng.IntN(len(text)) + 1
				for cut < len(text) && !boundary(text, cut) {
					cut++
				}
				p := text[:cut]
				tr.InsertMatched(tr.Match(p), p, name)
				if r := tr.Match(p); r.Matched != r.Total || !slices.Contains(r.Tenants, name) {
					t.Errorf("%s: after recording %d bytes, matched %d of %d chars, tenants %v", name, cut, r.Matched, r.Total, r.Tenants)
					return
				}
				longest[g] = max(longest[g], cut)
			}
		})
	}
	wg.Wait()
	checkTree(t, tr)
	for g, cut := range longest {
		if got, want := tr.Size(fmt.Sprint("w", g)), Count(text[:cut]); got != want {
			t.Errorf("w%d holds %d chars, want %d", g, got, want)
		}
	}
}
