package radix

import (
	"strings"
	"sync/atomic"
	"unicode/utf8"
)

// Insert records that text was sent to tenant: it stamps tenant, with the
// clock's time, on every node along text's path, adding the nodes it lacks.
// A tree at its memory limit records only what fits (see memory.go).
// It keeps no reference to text (labels are copies), so the caller may
// reuse text's bytes once it returns.
//
// Insert descends by lock coupling with read locks, keeping the current node
// and its parent locked: the parent's lock pins the current node (it cannot
// be split or detached), so upgrading the current node or its child to a
// write lock, which briefly releases it, is safe. Only the nodes it changes
// are write-locked.
func (t *Tree) Insert(text, tenant string) {
	if text == "" {
		return
	}
	t.insertVia(nil, text, tenant)
}

// InsertMatched is Insert for a text whose Match (or MatchAppend) returned
// r: labels the match compared whole are not compared again (see trail.go),
// so recording a long prompt that is already in the tree costs no pass over
// it. The tree ends up exactly as after Insert(text, tenant). text must be
// the very string r was matched on; for any other, r is ignored. A Result
// pins the nodes it passed: keep it no longer than the insert that follows.
func (t *Tree) InsertMatched(r Result, text, tenant string) {
	if text == "" {
		return
	}
	t.insertVia(r.seen.of(text), text, tenant)
}

// insertVia does Insert, skipping the comparisons tr knows (tr may be nil).
func (t *Tree) insertVia(tr *trail, text, tenant string) {
	ten, now := t.tenant(tenant), t.clock().UnixNano()
	if !t.insert(tr, text, ten, now) {
		// Malformed UTF-8 (see text.go); the valid text always inserts.
		t.insert(nil, strings.ToValidUTF8(text, string(utf8.RuneError)), ten, now)
	}
	t.signalPressure()
}

// cursor is a node and how it is locked.
type cursor struct {
	n *node
	w bool // write-locked
}

func (c cursor) unlock() {
	switch {
	case c.n == nil:
	case c.w:
		c.n.mu.Unlock()
	default:
		c.n.mu.RUnlock()
	}
}

// upgrade trades c's read lock for a write lock. The caller holds c's
// parent (or c is the root), so c's label and attachment cannot change in
// between; its children and stamps can, and the caller re-reads them.
func (c cursor) upgrade() cursor {
	if !c.w {
		c.n.mu.RUnlock()
		c.n.mu.Lock()
	}
	return cursor{n: c.n, w: true}
}

// insert does the work of Insert; it returns false, having stored nothing
// new, when the text a new leaf would hold is not storable. The expensive
// work (scanning and copying text) is prepared under read locks; the write
// locks only publish it. At the memory limit it stops before adding a
// stamp, a split or a leaf; stamps stay prefix-closed, as it adds them top
// down.
func (t *Tree) insert(tr *trail, text string, ten *tenant, now int64) bool {
	var p cursor // n's parent, locked; nil while n is the root (always pinned)
	n := cursor{n: t.root}
	n.n.mu.RLock()
	defer func() { n.unlock(); p.unlock() }()
	var leaf *node // prepared for rest when len(leaf.label) == len(rest)
	var cut *split // prepared split, valid while its node is still n's child
	for rest := text; rest != ""; {
		key, size := firstKey(rest)
		c := n.n.kids.get(key)
		if c == nil {
			if t.full() {
				return true
			}
			if leaf == nil || len(leaf.label) != len(rest) {
				var ok bool
				if leaf, ok = newLeaf(rest, ten, now); !ok {
					return false
				}
			}
			if !n.w {
				n = n.upgrade() // someone may add the child meanwhile: look again
				continue
			}
			if cost := leaf.cost() + stampBytes; !ten.dead.Load() && t.reserve(cost) {
				leaf.parent = n.n
				ten.chars.Add(int64(leaf.chars))
				ten.bytes.Add(cost)
				n.n.kids.put(key, leaf)
			}
			return true
		}
		c.mu.RLock()
		k := len(c.label)
		if !tr.known(c, len(text)-len(rest)) {
			k = commonPrefix(c.label, rest, size)
		}
		kid := cursor{n: c}
		if k < len(c.label) {
			if t.full() {
				c.mu.RUnlock()
				return true
			}
			if cut == nil || cut.c != c || cut.k != k {
				cut = planSplit(c, k)
			}
			c.mu.RUnlock()
			if !n.w {
				n = n.upgrade() // c may be split meanwhile: look again
				continue
			}
			kid = cursor{n: cut.apply(n.n, &t.mem), w: true}
		}
		if !kid.n.touch(ten, now) {
			if t.full() {
				kid.unlock()
				return true
			}
			kid = kid.upgrade() // kid is pinned by n
			kid.n.addStamp(ten, now, &t.mem)
		}
		p.unlock()
		p, n = n, kid
		rest = rest[k:]
	}
	return true
}

// newLeaf returns an unpublished node for the text rest stamped for t (its
// characters are counted for t when it is published), or false when rest
// is not storable.
func newLeaf(rest string, t *tenant, now int64) (*node, bool) {
	chars, ok := storable(rest)
	if !ok {
		return nil, false
	}
	leaf := &node{label: strings.Clone(rest), chars: chars}
	s := &stamp{t: t}
	s.last.Store(now)
	leaf.stamps = []*stamp{s}
	return leaf, true
}

// split is a prepared split of node c at byte k: fresh copies of both
// halves, so no node keeps a larger backing array alive than its label.
type split struct {
	c          *node
	k          int
	head, tail string
	headChars  int
}

// planSplit prepares splitting c at k. Caller holds c's lock.
func planSplit(c *node, k int) *split {
	head := strings.Clone(c.label[:k])
	return &split{c: c, k: k, head: head, tail: strings.Clone(c.label[k:]), headChars: Count(head)}
}

// apply puts a new node m holding the head between n and c, and returns m
// write-locked. m carries copies of c's stamps, so every tenant's character
// count is unchanged; their bytes and the tree's (mem) grow by m's cost and
// the change of c's label. The caller holds n's write lock, and found c
// still n's child (so c's label is the one planned: only a split changes
// it, and a split replaces c among n's children); apply takes c's lock.
func (sp *split) apply(n *node, mem *atomic.Int64) *node {
	c := sp.c
	c.mu.Lock()
	defer c.mu.Unlock()
	m := &node{label: sp.head, chars: sp.headChars, parent: n}
	m.stamps = make([]*stamp, 0, len(c.stamps))
	relabel := allocSize(len(sp.tail)) - allocSize(len(c.label))
	for _, s := range c.stamps {
		if s.t.dead.Load() { // being swept: keep it off m, which the sweep may miss
			s.t.chars.Add(-int64(m.chars))
			s.t.bytes.Add(relabel)
			continue
		}
		ms := &stamp{t: s.t}
		ms.last.Store(s.last.Load())
		m.stamps = append(m.stamps, ms)
		s.t.bytes.Add(m.cost() + stampBytes + relabel)
	}
	mem.Add(m.cost() + int64(len(m.stamps))*stampBytes + relabel)
	c.label, c.chars, c.parent = sp.tail, c.chars-m.chars, m
	ck, _ := firstKey(c.label)
	m.kids.put(ck, c)
	mk, _ := firstKey(m.label)
	m.mu.Lock()
	n.kids.put(mk, m)
	return m
}
