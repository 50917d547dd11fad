package radix

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"
)

var benchTenants = []string{"http://w0:8000", "http://w1:8000", "http://w2:8000", "http://w3:8000",
	"http://w4:8000", "http://w5:8000", "http://w6:8000", "http://w7:8000"}

var sizes = []struct {
	name string
	n    int
}{{"1KB", 1 << 10}, {"400KB", 400 << 10}}

// repeatedPrompts returns 64 prompts of about n bytes: four shared system
// prompts (3/4 of the text) with distinct user turns, the cache_aware case.
func repeatedPrompts(n int) []string {
	sys := make([]string, 4)
	for i := range sys {
		sys[i] = randomText(3*n/4, uint64(100+i))[:3*n/4]
	}
	out := make([]string, 64)
	for i := range out {
		out[i] = sys[i%4] + fmt.Sprintf("turn %d ", i) + randomText(n/4, uint64(200+i))
	}
	return out
}

// BenchmarkMatchInsert is one cache_aware decision's tree work: Match, then
// InsertMatched for a tenant, over prompts that share prefixes.
func BenchmarkMatchInsert(b *testing.B) {
	for _, sz := range sizes {
		b.Run(sz.name, func(b *testing.B) {
			tr := New(nil)
			prompts := repeatedPrompts(sz.n)
			for i, p := range prompts {
				tr.Insert(p, benchTenants[i%len(benchTenants)])
			}
			var buf [8]string
			b.ReportAllocs()
			b.SetBytes(int64(len(prompts[0])))
			i := 0
			for b.Loop() {
				p := prompts[i%len(prompts)]
				r := tr.MatchAppend(buf[:0], p)
				tr.InsertMatched(r, p, benchTenants[i%len(benchTenants)])
				i++
			}
		})
	}
}

// BenchmarkMatchInsertDistinct is the decision's tree work for bench-proxy's
// 400 KB scenario: 16 distinct prompts of random words cycled over two
// tenants, so the tree holds 6.4 MB (more than a core's cache) and every
// decision is a full match of a prompt the tree already holds for its
// tenant. plain inserts with Insert (which compares the text again),
// matched with InsertMatched.
func BenchmarkMatchInsertDistinct(b *testing.B) {
	prompts := make([]string, 16)
	for i := range prompts {
		prompts[i] = randomWords(400<<10, uint64(i))
	}
	for _, matched := range []bool{false, true} {
		b.Run(map[bool]string{false: "plain", true: "matched"}[matched], func(b *testing.B) {
			tr := New(nil)
			for i, p := range prompts {
				tr.Insert(p, benchTenants[i%2])
			}
			var buf [8]string
			b.ReportAllocs()
			b.SetBytes(400 << 10)
			i := 0
			for b.Loop() {
				p, ten := prompts[i%len(prompts)], benchTenants[i%len(prompts)%2]
				r := tr.MatchAppend(buf[:0], p)
				if matched {
					tr.InsertMatched(r, p, ten)
				} else {
					tr.Insert(p, ten)
				}
				i++
			}
		})
	}
}

// randomWords returns n bytes of words "w<number> ", as bench-proxy sends.
func randomWords(n int, seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, 2))
	var sb strings.Builder
	for sb.Len() < n {
		sb.WriteString("w" + strconv.Itoa(rng.IntN(50000)) + " ")
	}
	return sb.String()[:n]
}

// BenchmarkMatchInsertNew feeds never-repeating prompts (windows of a
// random text), each inserted as new nodes. Evict (to 1M characters per
// tenant) runs after every 10 MB inserted to bound memory; its walk is part
// of the cost.
func BenchmarkMatchInsertNew(b *testing.B) {
	for _, sz := range sizes {
		b.Run(sz.name, func(b *testing.B) {
			tr := New(nil)
			src := randomText(sz.n+(1<<20), 42)
			evictEvery := (10 << 20) / sz.n
			b.ReportAllocs()
			b.SetBytes(int64(sz.n))
			i := 0
			for b.Loop() {
				p := window(src, i*7919, sz.n)
				tr.Match(p)
				tr.Insert(p, benchTenants[i%len(benchTenants)])
				if i%evictEvery == evictEvery-1 {
					tr.Evict(1 << 20)
				}
				i++
			}
		})
	}
}

// window returns about n bytes of src from near off, cut on rune starts.
func window(src string, off, n int) string {
	off %= len(src) - n - 8
	for !utf8.RuneStart(src[off]) {
		off++
	}
	end := off + n
	for !utf8.RuneStart(src[end]) {
		end++
	}
	return src[off:end]
}

func BenchmarkMatch(b *testing.B) {
	for _, sz := range sizes {
		b.Run(sz.name, func(b *testing.B) {
			tr := New(nil)
			prompts := repeatedPrompts(sz.n)
			for i, p := range prompts {
				tr.Insert(p, benchTenants[i%len(benchTenants)])
			}
			var buf [8]string
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				tr.MatchAppend(buf[:0], prompts[i%len(prompts)])
				i++
			}
		})
	}
}

// BenchmarkParallel mixes readers and writers on all cores: three Match
// calls per Insert, over shared-prefix prompts.
func BenchmarkParallel(b *testing.B) {
	for _, sz := range sizes {
		b.Run(sz.name, func(b *testing.B) {
			tr := New(nil)
			prompts := repeatedPrompts(sz.n)
			var seq atomic.Int64
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				g := int(seq.Add(1))
				var buf [8]string
				for i := g * 17; pb.Next(); i++ {
					p := prompts[i%len(prompts)]
					if i%4 == 0 {
						tr.Insert(p, benchTenants[(i+g)%len(benchTenants)])
					} else {
						tr.MatchAppend(buf[:0], p)
					}
				}
			})
		})
	}
}

// BenchmarkEvictStream measures memory under a long stream of random,
// never-repeating 1 KB prompts with eviction to 1M chars per tenant: it
// reports the live heap after the run (heap-MB) beside the chars held.
func BenchmarkEvictStream(b *testing.B) {
	const limit = 1 << 20
	src := randomText(8<<20, 77)
	tr := New(nil)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		tr.Insert(window(src, i*104729, 1024), benchTenants[i%len(benchTenants)])
		if i%2000 == 1999 {
			tr.Evict(limit)
		}
		i++
	}
	tr.Evict(limit)
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	held := 0
	for _, n := range tr.Sizes() {
		held += n
	}
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/(1<<20), "heap-MB")
	b.ReportMetric(float64(held)/(1<<20), "Mchars-held")
	runtime.KeepAlive(tr)
	runtime.KeepAlive(src)
}

// BenchmarkEvict measures one Evict that halves a tree of 8 tenants' random
// 1 KB prompts (8000 prompts, ~16000 nodes); ns/op is per Evict call.
func BenchmarkEvict(b *testing.B) {
	src := randomText(4<<20, 78)
	prompts := make([]string, 8000)
	for i := range prompts {
		prompts[i] = window(src, i*104729, 1024)
	}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		tr := New(nil)
		for i, p := range prompts {
			tr.Insert(p, benchTenants[i%len(benchTenants)])
		}
		limit := tr.Size(benchTenants[0]) / 2
		b.StartTimer()
		tr.Evict(limit)
	}
}

// BenchmarkAdversarialMemory reports the peak live heap the tree holds
// (peak-heap/budget) while two goroutines insert prompts that branch at
// every character for 8 tenants, four times the 64 MiB budget's worth,
// with an evictor answering Pressure; bytes/budget is the fullest the
// tree's own accounting got. ns/op is one whole run.
func BenchmarkAdversarialMemory(b *testing.B) {
	const budget = 64 << 20
	var peak int64
	var filled float64
	for b.Loop() {
		peak, filled = adversarialRun(b, budget, 4*budget)
	}
	b.ReportMetric(float64(peak)/budget, "peak-heap/budget")
	b.ReportMetric(filled, "bytes/budget")
}

// BenchmarkEvictMemory measures one EvictMemory that brings a tree at its
// 16 MiB limit, full of branching prompts for 8 tenants, down to the
// low-water mark; ns/op is per call.
func BenchmarkEvictMemory(b *testing.B) {
	const limit = 16 << 20
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		tr := New(nil)
		tr.SetMemoryLimit(limit)
		gen := newBranching(5, 256)
		for i := 0; !tr.full(); i++ {
			tr.Insert(gen.next(), benchTenants[i%len(benchTenants)])
		}
		b.StartTimer()
		tr.EvictMemory()
	}
}

// BenchmarkCount counts the characters of 400 KB of ASCII words and of
// mixed text (accents, CJK, emoji), where no 32-byte block is all ASCII.
func BenchmarkCount(b *testing.B) {
	for _, c := range []struct{ name, text string }{
		{"ascii", randomWords(400<<10, 1)},
		{"mixed", randomText(200<<10, 2)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.text)))
			for b.Loop() {
				Count(c.text)
			}
		})
	}
}
