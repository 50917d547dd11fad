package radix

import "math"

// Eviction. A tenant's leaves are the nodes stamped for it whose children are
// not: removing a leaf's stamp keeps the tenant's stamps prefix-closed.
// Evict finds the leaves of every tenant over the limit in one read-locked
// walk, then removes them oldest first, each removal write-locking only the
// leaf and its parent for a moment; a parent that becomes a leaf joins the
// queue. Readers and inserts proceed between removals.

// maxEvictPasses bounds the walks per Evict when concurrent inserts keep a
// tenant over the limit after its queue ran out.
const maxEvictPasses = 3

// Evict removes, for every tenant holding more than maxChars characters, its
// least recently used leaves until it holds at most maxChars (nodes left
// without any tenant leave the tree). Concurrent inserts may leave a tenant
// slightly over by the time Evict returns.
func (t *Tree) Evict(maxChars int) {
	t.evictMu.Lock()
	defer t.evictMu.Unlock()
	limit := int64(max(maxChars, 0))
	var over []*tenant
	for _, ten := range t.liveTenants() {
		if ten.chars.Load() > limit {
			over = append(over, ten)
		}
	}
	for len(over) > 0 {
		group := over[:min(len(over), 64)] // one bit per tenant in the walk
		over = over[len(group):]
		for pass := 0; pass < maxEvictPasses && anyOver(group, limit); pass++ {
			t.evictGroup(group, limit)
		}
	}
}

func anyOver(ts []*tenant, limit int64) bool {
	for _, ten := range ts {
		if ten.chars.Load() > limit {
			return true
		}
	}
	return false
}

// evictGroup walks the tree once for up to 64 tenants, then drains each
// tenant's queue of leaves, oldest first.
func (t *Tree) evictGroup(group []*tenant, limit int64) {
	w := t.walk(group)
	kids := make([]int32, len(w.nodes)) // per node: children stamped for the tenant
	for b, ten := range group {
		bit := uint64(1) << b
		clear(kids)
		var q lruQueue[leaf]
		for i, wn := range w.nodes[1:] {
			if wn.has&bit != 0 {
				kids[wn.parent]++
			}
			if wn.has&bit != 0 && wn.kidsHas&bit == 0 {
				q = append(q, leaf{int32(i + 1), w.lastOf(int32(i+1), b), false})
			}
		}
		q.init()
		for ten.chars.Load() > limit && len(q) > 0 {
			e := q.pop()
			seen := e.last
			if e.requeued { // hot leaf met twice: evict it now, so Evict ends
				seen = math.MaxInt64
			}
			newer, last, _, done := t.evictLeaf(w.nodes[e.node].n, ten, seen)
			switch {
			case newer: // used since the walk: requeue with its new time
				q.push(leaf{e.node, last, true})
			case done:
				p := w.nodes[e.node].parent
				if kids[p]--; kids[p] == 0 && p != 0 && w.nodes[p].has&bit != 0 {
					q.push(leaf{p, w.lastOf(p, b), false})
				}
			}
		}
	}
}

// walkNode is one node as the walk saw it.
type walkNode struct {
	n       *node
	parent  int32
	stamps  int32  // index of its first entry in walkResult.stamps
	has     uint64 // group tenants stamped on n
	kidsHas uint64 // group tenants stamped on some child
}

// walkStamp is a stamp of a group tenant as the walk saw it.
type walkStamp struct {
	bit  int
	last int64
}

// walkResult is the tree as one walk saw it, root first and parents before
// their children. It may be stale by the time a leaf is evicted; evictLeaf
// checks again under the locks.
type walkResult struct {
	nodes  []walkNode
	stamps []walkStamp // each node's entries are contiguous
}

// lastOf returns the time of group tenant b's stamp on node i.
func (w *walkResult) lastOf(i int32, b int) int64 {
	end := int32(len(w.stamps))
	if int(i)+1 < len(w.nodes) {
		end = w.nodes[i+1].stamps
	}
	for _, s := range w.stamps[w.nodes[i].stamps:end] {
		if s.bit == b {
			return s.last
		}
	}
	return 0
}

// walk reads every node (each read-locked alone) for the group's stamps.
func (t *Tree) walk(group []*tenant) walkResult {
	bits := make(map[*tenant]int, len(group))
	for i, ten := range group {
		bits[ten] = i
	}
	type visit struct {
		n      *node
		parent int32
	}
	var w walkResult
	var kids []*node
	stack := []visit{{t.root, -1}}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		wn := walkNode{n: v.n, parent: v.parent, stamps: int32(len(w.stamps))}
		v.n.mu.RLock()
		for _, s := range v.n.stamps {
			if b, ok := bits[s.t]; ok {
				wn.has |= 1 << b
				w.stamps = append(w.stamps, walkStamp{b, s.last.Load()})
			}
		}
		kids = v.n.kids.appendTo(kids[:0])
		v.n.mu.RUnlock()
		idx := int32(len(w.nodes))
		w.nodes = append(w.nodes, wn)
		for _, c := range kids {
			stack = append(stack, visit{c, idx})
		}
	}
	for i := len(w.nodes) - 1; i > 0; i-- {
		w.nodes[w.nodes[i].parent].kidsHas |= w.nodes[i].has
	}
	return w
}

// evictLeaf removes ten's stamp from n if n is still one of its leaves and
// its stamp is no newer than seen, and removes nodes left empty. It reports
// the stamp's newer time instead (newer, last), or whether it was removed
// and from under which parent.
func (t *Tree) evictLeaf(n *node, ten *tenant, seen int64) (newer bool, last int64, parent *node, done bool) {
	p := t.lockPair(n)
	if p == nil {
		return false, 0, nil, false
	}
	s := n.stampOf(ten)
	switch {
	case s == nil:
	case s.last.Load() > seen:
		newer, last = true, s.last.Load()
	case !n.kidHas(ten):
		done = n.dropStamp(ten, &t.mem)
		if n.empty() {
			p.detach(n, &t.mem)
		}
	}
	n.mu.Unlock()
	prune := p != t.root && p.empty()
	p.mu.Unlock()
	if prune {
		t.prune(p)
	}
	return newer, last, p, done
}

// lockPair write-locks n's parent and then n, and returns the parent; nil
// (nothing locked) when n is the root or no longer in the tree.
func (t *Tree) lockPair(n *node) *node {
	for {
		n.mu.RLock()
		p, removed := n.parent, n.removed
		n.mu.RUnlock()
		if p == nil || removed {
			return nil
		}
		p.mu.Lock()
		n.mu.Lock()
		if n.parent == p && !n.removed { // a split may have moved n meanwhile
			return p
		}
		n.mu.Unlock()
		p.mu.Unlock()
	}
}

// prune removes n, and then its ancestors, while they hold no stamp and no
// child.
func (t *Tree) prune(n *node) {
	for n != t.root {
		p := t.lockPair(n)
		if p == nil {
			return
		}
		gone := n.empty()
		if gone {
			p.detach(n, &t.mem)
		}
		n.mu.Unlock()
		p.mu.Unlock()
		if !gone {
			return
		}
		n = p
	}
}
