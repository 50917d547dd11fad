package metrics

import (
	"sync"
	"testing"
)

func TestSeriesCreatesEachChildOnce(t *testing.T) {
	created := map[string]int{}
	removed := map[string]int{}
	s := newSeries(
		func(k string) *int { created[k]++; v := 0; return &v },
		func(k string) { removed[k]++ })

	a1, a2, b := s.get("a"), s.get("a"), s.get("b")
	if a1 != a2 || a1 == b {
		t.Fatal("get must return the same child per key and distinct children per key")
	}
	s.forget(func(k string) bool { return k == "a" })
	a3 := s.get("a")
	if a3 == a1 {
		t.Error("after forget, get must create a fresh child")
	}
	want := map[string]int{"a": 2, "b": 1}
	for k, n := range want {
		if created[k] != n {
			t.Errorf("created[%s] = %d, want %d", k, created[k], n)
		}
	}
	if removed["a"] != 1 || removed["b"] != 0 {
		t.Errorf("removed = %v, want only a once", removed)
	}
}

func TestSeriesForgetOnEmptyIsNoop(t *testing.T) {
	s := newSeries(func(string) int { return 1 }, nil)
	s.forget(func(string) bool { return true })
	if s.get("x") != 1 {
		t.Error("get after forget on empty cache failed")
	}
}

func TestSeriesConcurrentGetCreatesOnce(t *testing.T) {
	var mu sync.Mutex
	created := 0
	s := newSeries(func(string) *int {
		mu.Lock()
		created++
		mu.Unlock()
		return new(int)
	}, nil)
	var wg sync.WaitGroup
	ptrs := make([]*int, 16)
	for i := range ptrs {
		wg.Add(1)
		go func() { defer wg.Done(); ptrs[i] = s.get("k") }()
	}
	wg.Wait()
	if created != 1 {
		t.Errorf("created %d children, want 1", created)
	}
	for _, p := range ptrs {
		if p != ptrs[0] {
			t.Fatal("goroutines got different children for one key")
		}
	}
}
