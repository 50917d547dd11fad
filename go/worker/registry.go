package worker

import (
	"sync"
	"sync/atomic"
)

// Registry is the set of workers of one pool. Readers take an immutable
// snapshot with one atomic load (the request path never locks); writers copy
// the slice under mu. Listeners learn of removals, so a policy can drop the
// state it keeps per worker.
type Registry struct {
	snap atomic.Pointer[[]*Worker]

	mu        sync.Mutex // serialises writers and guards listeners
	listeners []func(*Worker)
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	r := &Registry{}
	empty := []*Worker{}
	r.snap.Store(&empty)
	return r
}

// Snapshot returns the current workers in insertion order. The slice must
// not be modified.
func (r *Registry) Snapshot() []*Worker { return *r.snap.Load() }

// Get returns the worker with this URL, or nil.
func (r *Registry) Get(url string) *Worker {
	for _, w := range r.Snapshot() {
		if w.url == url {
			return w
		}
	}
	return nil
}

// Add appends w; ErrExists if its URL is present.
func (r *Registry) Add(w *Worker) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.Snapshot()
	for _, x := range old {
		if x.url == w.url {
			return ErrExists
		}
	}
	next := make([]*Worker, len(old), len(old)+1)
	copy(next, old)
	next = append(next, w)
	r.snap.Store(&next)
	return nil
}

// Remove deletes the worker with this URL and notifies listeners.
func (r *Registry) Remove(url string) (*Worker, error) {
	r.mu.Lock()
	old := r.Snapshot()
	idx := -1
	for i, x := range old {
		if x.url == url {
			idx = i
			break
		}
	}
	if idx < 0 {
		r.mu.Unlock()
		return nil, ErrNotFound
	}
	removed := old[idx]
	next := make([]*Worker, 0, len(old)-1)
	next = append(next, old[:idx]...)
	next = append(next, old[idx+1:]...)
	r.snap.Store(&next)
	listeners := append([]func(*Worker){}, r.listeners...)
	r.mu.Unlock()
	for _, f := range listeners {
		f(removed)
	}
	return removed, nil
}

// RemoveServer deletes every worker whose base URL is base (a server and
// all its data-parallel ranks) and notifies listeners of each. It returns
// them in registry order, or ErrNotFound.
func (r *Registry) RemoveServer(base string) ([]*Worker, error) {
	r.mu.Lock()
	old := r.Snapshot()
	var removed []*Worker
	next := make([]*Worker, 0, len(old))
	for _, x := range old {
		if x.base == base {
			removed = append(removed, x)
		} else {
			next = append(next, x)
		}
	}
	if len(removed) == 0 {
		r.mu.Unlock()
		return nil, ErrNotFound
	}
	r.snap.Store(&next)
	listeners := append([]func(*Worker){}, r.listeners...)
	r.mu.Unlock()
	for _, w := range removed {
		for _, f := range listeners {
			f(w)
		}
	}
	return removed, nil
}

// HasServer reports whether a worker (or a rank) of the server at base is
// present.
func (r *Registry) HasServer(base string) bool {
	for _, w := range r.Snapshot() {
		if w.base == base {
			return true
		}
	}
	return false
}

// OnRemove registers f to run after a worker is removed.
func (r *Registry) OnRemove(f func(*Worker)) {
	r.mu.Lock()
	r.listeners = append(r.listeners, f)
	r.mu.Unlock()
}

// Healthy returns the workers that are healthy now (a new slice).
func (r *Registry) Healthy() []*Worker {
	var out []*Worker
	for _, w := range r.Snapshot() {
		if w.Healthy() {
			out = append(out, w)
		}
	}
	return out
}
