package metrics

import (
	"sync"
	"sync/atomic"
)

// series caches the children of one labelled metric vector by label value(s),
// so the request path pays one lock-free map read instead of WithLabelValues'
// label hashing, validation and slice allocation.
//
// The cache is copy-on-write: readers load an immutable map; a miss creates the
// child and publishes a copied map under mu. Label sets here are small (routes,
// workers, error classes), so copying on the rare miss is cheap.
//
// Invariant: every child that exists in the vector was created through this
// cache, and the cache holds exactly the children the vector holds; mu makes
// creation and deletion atomic with respect to each other.
type series[K comparable, V any] struct {
	create func(K) V // creates (or fetches) the child in the vector
	remove func(K)   // deletes the child from the vector; nil if never removed

	mu sync.Mutex // serialises create/remove and publication of m
	m  atomic.Pointer[map[K]V]
}

func newSeries[K comparable, V any](create func(K) V, remove func(K)) *series[K, V] {
	return &series[K, V]{create: create, remove: remove}
}

// get returns the child for k, creating it on first use. Safe for concurrent use.
func (s *series[K, V]) get(k K) V {
	if m := s.m.Load(); m != nil {
		if v, ok := (*m)[k]; ok {
			return v
		}
	}
	return s.slowGet(k)
}

func (s *series[K, V]) slowGet(k K) V {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.m.Load()
	if old != nil {
		if v, ok := (*old)[k]; ok {
			return v
		}
	}
	v := s.create(k)
	next := make(map[K]V, mapLen(old)+1)
	if old != nil {
		for key, val := range *old {
			next[key] = val
		}
	}
	next[k] = v
	s.m.Store(&next)
	return v
}

// forget deletes every child whose key matches, from the vector and the cache.
// A later get of the same key creates a fresh child.
func (s *series[K, V]) forget(match func(K) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.m.Load()
	if old == nil {
		return
	}
	next := make(map[K]V, len(*old))
	for key, val := range *old {
		if !match(key) {
			next[key] = val
			continue
		}
		if s.remove != nil {
			s.remove(key)
		}
	}
	s.m.Store(&next)
}

func mapLen[K comparable, V any](m *map[K]V) int {
	if m == nil {
		return 0
	}
	return len(*m)
}
