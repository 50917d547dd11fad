package radix

import (
	"testing"
	"time"
)

// fakeClock is a manual clock for exact eviction order.
type fakeClock struct{ now time.Time }

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

// tick advances the clock by one second and returns it (as a Tree clock).
func (c *fakeClock) tick() time.Time { c.now = c.now.Add(time.Second); return c.now }

// checkTree verifies the tree's structural invariants and accounting; the
// tree must be quiescent. It returns the number of non-root nodes.
func checkTree(t *testing.T, tr *Tree) int {
	t.Helper()
	chars, bytes := map[*tenant]int64{}, map[*tenant]int64{}
	nodes, mem := 0, int64(0)
	var walk func(n *node)
	walk = func(n *node) {
		if n != tr.root {
			mem += n.cost() + int64(len(n.stamps))*stampBytes
		}
		for _, s := range n.stamps {
			chars[s.t] += int64(n.chars)
			bytes[s.t] += n.cost() + stampBytes
		}
		n.kids.each(func(c *node) bool {
			nodes++
			key, _ := firstKey(c.label)
			switch {
			case c.label == "":
				t.Errorf("empty label under %q", n.label)
			case n.kids.get(key) != c:
				t.Errorf("node %q filed under the wrong key", c.label)
			case c.parent != n || c.removed:
				t.Errorf("node %q: bad parent link or marked removed", c.label)
			case c.chars != Count(c.label):
				t.Errorf("node %q: chars %d, want %d", c.label, c.chars, Count(c.label))
			case c.empty():
				t.Errorf("node %q has no tenant and no child", c.label)
			}
			if n != tr.root {
				for _, s := range c.stamps {
					if n.stampOf(s.t) == nil && !s.t.dead.Load() {
						t.Errorf("tenant %s on %q but not on its parent %q", s.t.name, c.label, n.label)
					}
				}
			}
			walk(c)
			return true
		})
	}
	walk(tr.root)
	if got := tr.Bytes(); got != mem {
		t.Errorf("tree counted %d bytes, its nodes cost %d", got, mem)
	}
	for _, ten := range tr.liveTenants() {
		if got := ten.chars.Load(); got != chars[ten] {
			t.Errorf("tenant %s: counted %d chars, nodes hold %d", ten.name, got, chars[ten])
		}
		if got := ten.bytes.Load(); got != bytes[ten] {
			t.Errorf("tenant %s: counted %d bytes, its nodes cost %d", ten.name, got, bytes[ten])
		}
		delete(chars, ten)
	}
	for ten, n := range chars {
		if !ten.dead.Load() || n != 0 {
			t.Errorf("unindexed tenant %s holds %d chars (dead %v)", ten.name, n, ten.dead.Load())
		}
	}
	return nodes
}
