package radix

import (
	"slices"
	"sync"
	"sync/atomic"
)

// tenant is one worker's identity in the tree and what it holds.
type tenant struct {
	name  string
	chars atomic.Int64 // sum of the labels' characters of the nodes stamped for it
	bytes atomic.Int64 // sum of cost()+stampBytes of the nodes stamped for it (memory.go)
	dead  atomic.Bool  // set by RemoveTenant; a dead tenant is never stamped again
}

// stamp says a tenant was sent the prefix ending at a node, and when.
type stamp struct {
	t    *tenant
	last atomic.Int64 // unix nanoseconds of the latest insert through the node
}

// stampResolution: an insert does not rewrite a stamp younger than this.
// Eviction order does not need finer time, and skipping the store keeps the
// hot shared-prefix nodes from bouncing a cache line between cores.
const stampResolution = int64(1e6) // 1 ms

// node is one edge of the tree with the node it leads to.
//
// Locking. Every node has its own RWMutex, always taken top-down (a parent
// before its child), so locks never form a cycle; a goroutine waits only for
// a lock deeper than every lock it holds. mu guards kids and stamps (the
// slice; stamp.last is atomic and may be stored under a read lock). Stamps
// are added under the node's write lock but removed only under the write
// locks of both the parent and the node; label, chars, parent and removed
// likewise change only when a split or removal holds both. So holding either
// read lock pins them: a reader that read-locks a child before unlocking the
// parent (lock coupling) never sees a node half-split or detached, and an
// insert holding a parent may upgrade its child's lock without re-checking.
type node struct {
	mu      sync.RWMutex
	label   string // non-empty except at the root; a private copy
	chars   int    // characters in label
	parent  *node
	removed bool // detached from the tree
	kids    children
	stamps  []*stamp
}

// stampOf returns the stamp for t or nil. Caller holds n.mu (either mode).
func (n *node) stampOf(t *tenant) *stamp {
	for _, s := range n.stamps {
		if s.t == t {
			return s
		}
	}
	return nil
}

// touch refreshes t's stamp and reports whether n had one. Caller holds
// n.mu in either mode.
func (n *node) touch(t *tenant, now int64) bool {
	s := n.stampOf(t)
	if s == nil {
		return false
	}
	if now-s.last.Load() >= stampResolution {
		s.last.Store(now)
	}
	return true
}

// addStamp stamps n for t, counting n's characters and bytes for t and the
// stamp's bytes in mem (the tree's total), unless t is dead or already
// stamped. Caller holds n.mu for writing.
func (n *node) addStamp(t *tenant, now int64, mem *atomic.Int64) {
	if n.touch(t, now) || t.dead.Load() {
		return
	}
	s := &stamp{t: t}
	s.last.Store(now)
	n.stamps = append(n.stamps, s)
	t.chars.Add(int64(n.chars))
	t.bytes.Add(n.cost() + stampBytes)
	mem.Add(stampBytes)
}

// dropStamp removes t's stamp, its characters and bytes. Caller holds the
// write locks of n and of its parent (stamps are removed only by eviction
// and tenant removal, which lock both).
func (n *node) dropStamp(t *tenant, mem *atomic.Int64) bool {
	for i, s := range n.stamps {
		if s.t == t {
			n.stamps = slices.Delete(n.stamps, i, i+1) // keeps the stamping order
			t.chars.Add(-int64(n.chars))
			t.bytes.Add(-(n.cost() + stampBytes))
			mem.Add(-stampBytes)
			return true
		}
	}
	return false
}

// empty reports whether n can leave the tree. Caller holds n.mu.
func (n *node) empty() bool { return len(n.stamps) == 0 && n.kids.len() == 0 }

// kidHas reports whether any child of n is stamped for t. Caller holds n.mu
// (either mode) and no child lock; it read-locks each child in turn.
func (n *node) kidHas(t *tenant) bool {
	found := false
	n.kids.each(func(c *node) bool {
		c.mu.RLock()
		found = c.stampOf(t) != nil
		c.mu.RUnlock()
		return !found
	})
	return found
}

// detach removes child c, which holds no stamp, from n and its bytes from
// mem. Caller holds both write locks.
func (n *node) detach(c *node, mem *atomic.Int64) {
	key, _ := firstKey(c.label)
	n.kids.del(key)
	c.removed = true
	mem.Add(-c.cost())
}
