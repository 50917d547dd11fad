package radix

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// twin drives two trees through the same operations, one recording texts
// with Insert and the other with InsertMatched, from a byte string (fuzz
// input): InsertMatched must leave exactly the tree Insert leaves, however
// the tree changed between the match and the insert.
type twin struct {
	t      *testing.T
	ops    []byte
	blocks []string
	ref    *Tree // Insert
	fast   *Tree // InsertMatched
}

func newTwin(t *testing.T, ops []byte) *twin {
	w := &twin{t: t, ops: ops, ref: New(newFakeClock().tick), fast: New(newFakeClock().tick)}
	for i := range 4 {
		w.blocks = append(w.blocks, randomText(300+100*i, uint64(40+i)))
	}
	if limit := int64(w.next()) << 12; limit > 0 { // 0 (none) up to 1 MB
		w.ref.SetMemoryLimit(limit)
		w.fast.SetMemoryLimit(limit)
	}
	return w
}

// next consumes one byte of input (0 once it is used up).
func (w *twin) next() int {
	if len(w.ops) == 0 {
		return 0
	}
	b := w.ops[0]
	w.ops = w.ops[1:]
	return int(b)
}

// text builds a text of one to three blocks, cut at a point the input
// picks (on a character boundary), sometimes ending in invalid UTF-8.
func (w *twin) text() string {
	var b strings.Builder
	for range 1 + w.next()%3 {
		b.WriteString(w.blocks[w.next()%len(w.blocks)])
	}
	s := b.String()
	cut := len(s) * (1 + w.next()) / 256
	for cut < len(s) && !utf8.RuneStart(s[cut]) {
		cut++
	}
	s = s[:cut]
	if w.next()%8 == 0 {
		s += "\xff\x80"
	}
	return s
}

func (w *twin) tenant() string { return benchTenants[w.next()%3] }

// step runs one decision (match, other work meanwhile, insert) on both
// trees and compares them.
func (w *twin) step() {
	text := w.text()
	var buf [4]string
	rr, fr := w.ref.MatchAppend(buf[:0], text), w.fast.MatchAppend(nil, text)
	if rr.Matched != fr.Matched || rr.Total != fr.Total || !slices.Equal(rr.Tenants, fr.Tenants) {
		w.t.Fatalf("matches differ: %d/%d %v and %d/%d %v", rr.Matched, rr.Total, rr.Tenants, fr.Matched, fr.Total, fr.Tenants)
	}
	for range w.next() % 4 {
		w.meanwhile()
	}
	ten := w.tenant()
	w.ref.Insert(text, ten)
	w.fast.InsertMatched(fr, text, ten)
	if a, b := dump(w.ref), dump(w.fast); a != b {
		w.t.Fatalf("Insert left\n%s\nInsertMatched left\n%s", a, b)
	}
	checkTree(w.t, w.fast)
}

// meanwhile changes both trees alike: another insert (which may split or
// extend the matched path), an eviction or a tenant's removal.
func (w *twin) meanwhile() {
	switch w.next() % 6 {
	case 0, 1, 2:
		text, ten := w.text(), w.tenant()
		w.ref.Insert(text, ten)
		w.fast.Insert(text, ten)
	case 3:
		limit := w.next() << 6
		w.ref.Evict(limit)
		w.fast.Evict(limit)
	case 4:
		ten := w.tenant()
		w.ref.RemoveTenant(ten)
		w.fast.RemoveTenant(ten)
	case 5:
		w.ref.EvictMemory()
		w.fast.EvictMemory()
	}
}

// dump prints a quiescent tree: every node's label (as its length and
// characters, and its text when short), stamps in order with their times,
// children by key; then the accounting.
func dump(tr *Tree) string {
	var b strings.Builder
	var walk func(n *node, depth int)
	walk = func(n *node, depth int) {
		fmt.Fprintf(&b, "%*s%d/%d %q", 2*depth, "", len(n.label), n.chars, n.label[:min(len(n.label), 24)])
		for _, s := range n.stamps {
			fmt.Fprintf(&b, " %s@%d", s.t.name, s.last.Load())
		}
		b.WriteByte('\n')
		kids := n.kids.appendTo(nil)
		slices.SortFunc(kids, func(x, y *node) int { return strings.Compare(x.label, y.label) })
		for _, c := range kids {
			walk(c, depth+1)
		}
	}
	walk(tr.root, 0)
	sizes := tr.Sizes()
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range sizes {
			if !yield(k) {
				return
			}
		}
	})
	for _, name := range names {
		fmt.Fprintf(&b, "%s: %d chars\n", name, sizes[name])
	}
	fmt.Fprintf(&b, "%d bytes\n", tr.Bytes())
	return b.String()
}

func runTwin(t *testing.T, ops []byte) {
	w := newTwin(t, ops)
	for len(w.ops) > 0 {
		w.step()
	}
}

func TestInsertMatchedLeavesTheTreeInsertLeaves(t *testing.T) {
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 9))
		ops := make([]byte, 600)
		for i := range ops {
			ops[i] = byte(rng.Uint32())
		}
		ops[0] = byte(seed % 3 * 40) // no limit, 160 KB, 320 KB
		runTwin(t, ops)
	}
}

func FuzzInsertMatched(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 200, 7, 3, 0, 1, 2, 3, 200, 7})
	f.Add([]byte{0, 2, 1, 1, 255, 1, 1, 0, 1, 1, 100, 1, 2, 0, 2, 2, 255, 1, 3, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 400 {
			ops = ops[:400]
		}
		runTwin(t, ops)
	})
}

// TestInsertMatchedSkipsTheLabelsTheMatchCompared checks that a match of a
// long text remembers its long labels, and that the trail serves only the
// text it was made for.
func TestInsertMatchedSkipsTheLabelsTheMatchCompared(t *testing.T) {
	text := randomText(2000, 5)
	cut := 600
	for !utf8.RuneStart(text[cut]) {
		cut++
	}
	tr := New(nil)
	tr.Insert(text, "A")
	tr.Insert(text[:cut], "B") // splits the leaf: two long labels
	r := tr.Match(text)
	if r.seen.n != 2 || r.seen.steps[0].off != 0 || r.seen.steps[1].off != cut {
		t.Fatalf("trail %+v, want the two labels at 0 and %d", r.seen.steps[:r.seen.n], cut)
	}
	if r.seen.of(text) == nil {
		t.Fatal("the trail does not serve its own text")
	}
	if r.seen.of(strings.Clone(text)) != nil || r.seen.of(text[:len(text)-1]) != nil {
		t.Fatal("the trail serves a text it was not made for")
	}
	short := tr.Match(text[:200])
	if short.seen.n != 0 {
		t.Fatalf("a match inside a label kept %d steps", short.seen.n)
	}
}
