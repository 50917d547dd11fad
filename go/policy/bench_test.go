package policy

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// BenchmarkPick measures each policy's Pick over 8 workers; cache_aware gets
// 1 KB prompts that share four system prompts, as chat traffic does.
func BenchmarkPick(b *testing.B) {
	prompts := benchPrompts(1<<10, 64)
	for _, name := range allNames {
		b.Run(name, func(b *testing.B) {
			p, err := New(name, DefaultOptions())
			if err != nil {
				b.Fatal(err)
			}
			ws := pool(b, 0, 0, 0, 0, 0, 0, 0, 0)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				p.Pick(ws, prompts[i%len(prompts)])
				i++
			}
		})
	}
}

// BenchmarkCacheAware is cache_aware's Pick at two prompt sizes over 8
// workers, with prompts that share prefixes (the common case) and with
// never-repeating prompts (every pick inserts new text; the tree is evicted
// to 4M characters per worker every 10 MB to bound memory, off the clock:
// see radix's BenchmarkEvict for that cost).
func BenchmarkCacheAware(b *testing.B) {
	for _, size := range []int{1 << 10, 400 << 10} {
		name := fmt.Sprintf("%dKB", size>>10)
		b.Run(name+"/shared", func(b *testing.B) {
			p := NewCacheAware(DefaultOptions())
			ws := pool(b, 0, 0, 0, 0, 0, 0, 0, 0)
			prompts := benchPrompts(size, 64)
			b.ReportAllocs()
			b.SetBytes(int64(size))
			i := 0
			for b.Loop() {
				p.Pick(ws, prompts[i%len(prompts)])
				i++
			}
		})
		b.Run(name+"/new", func(b *testing.B) {
			p := NewCacheAware(DefaultOptions())
			ws := pool(b, 0, 0, 0, 0, 0, 0, 0, 0)
			src := benchText(size+(1<<20), 99)
			every := (10 << 20) / size
			b.ReportAllocs()
			b.SetBytes(int64(size))
			i := 0
			for b.Loop() {
				off := (i * 7919) % (len(src) - size)
				p.Pick(ws, src[off:off+size])
				if i%every == every-1 {
					b.StopTimer()
					p.tree.Evict(4 << 20)
					b.StartTimer()
				}
				i++
			}
		})
	}
}

// BenchmarkCacheAwareParallel picks from all cores over shared prompts.
func BenchmarkCacheAwareParallel(b *testing.B) {
	p := NewCacheAware(DefaultOptions())
	ws := pool(b, 0, 0, 0, 0, 0, 0, 0, 0)
	prompts := benchPrompts(1<<10, 64)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for i := rand.IntN(64); pb.Next(); i++ {
			p.Pick(ws, prompts[i%len(prompts)])
		}
	})
}

// benchPrompts returns n prompts of about size bytes: four system prompts
// (3/4 of the size) followed by distinct user turns.
func benchPrompts(size, n int) []string {
	systems := make([]string, 4)
	for i := range systems {
		systems[i] = benchText(3*size/4, uint64(i))
	}
	out := make([]string, n)
	for i := range out {
		out[i] = systems[i%4] + benchText(size/4, uint64(100+i))
	}
	return out
}

// benchText returns n bytes of lowercase words.
func benchText(n int, seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, 3))
	var b strings.Builder
	for b.Len() < n {
		b.WriteByte(byte('a' + rng.IntN(27)))
	}
	return strings.ReplaceAll(b.String(), "{", " ")
}
