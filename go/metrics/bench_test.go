package metrics

import (
	"testing"
	"time"
)

// Benchmarks of the request-path methods; each must report 0 allocs/op.

func BenchmarkRecordRequest(b *testing.B) {
	for _, enabled := range []bool{true, false} {
		name := map[bool]string{true: "enabled", false: "disabled"}[enabled]
		b.Run(name, func(b *testing.B) {
			m := New(enabled)
			b.ReportAllocs()
			for b.Loop() {
				m.RecordRequest("/generate", 3*time.Millisecond)
			}
		})
	}
}

func BenchmarkRecordRequestParallel(b *testing.B) {
	m := New(true)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.RecordRequest("/generate", 3*time.Millisecond)
		}
	})
}

func BenchmarkRecordProcessed(b *testing.B) {
	m := New(true)
	workers := []string{"http://10.0.0.1:8000", "http://10.0.0.2:8000", "http://10.0.0.3:8000"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.RecordProcessed(workers[i%len(workers)])
		i++
	}
}

func BenchmarkRecordPolicyDecision(b *testing.B) {
	m := New(true)
	b.ReportAllocs()
	for b.Loop() {
		m.RecordPolicyDecision("cache_aware", "http://10.0.0.1:8000")
	}
}

func BenchmarkSetRunning(b *testing.B) {
	m := New(true)
	b.ReportAllocs()
	for b.Loop() {
		m.SetRunning("http://10.0.0.1:8000", 7)
	}
}

// BenchmarkUncachedWithLabelValues is the baseline the child cache avoids.
func BenchmarkUncachedWithLabelValues(b *testing.B) {
	m := New(true)
	vec := builder{reg: m.Registry()}.counterVec("bench_uncached_total", "baseline", "worker")
	b.ReportAllocs()
	for b.Loop() {
		vec.WithLabelValues("http://10.0.0.1:8000").Inc()
	}
}

func TestRequestPathDoesNotAllocate(t *testing.T) {
	m := New(true)
	callEvery(m) // warm the child caches
	calls := map[string]func(){
		"RecordRequest":         func() { m.RecordRequest("/generate", time.Millisecond) },
		"RecordProcessed":       func() { m.RecordProcessed("w") },
		"RecordPolicyDecision":  func() { m.RecordPolicyDecision("round_robin", "w") },
		"RecordRoutingDecision": func() { m.RecordRoutingDecision("cache_hit") },
		"RecordError":           func() { m.RecordError("/generate", "upstream") },
		"RecordTTFT":            func() { m.RecordTTFT("/generate", time.Millisecond) },
		"SetRunning":            func() { m.SetRunning("w", 3) },
		"CacheHit":              func() { m.CacheHit("w") },
	}
	for name, call := range calls {
		if n := testing.AllocsPerRun(100, call); n != 0 {
			t.Errorf("%s allocates %v times per call, want 0", name, n)
		}
	}
}
