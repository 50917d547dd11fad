package radix

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

type insert struct{ text, tenant string }

func build(t *testing.T, ins ...insert) (*Tree, *fakeClock) {
	t.Helper()
	clk := newFakeClock()
	tr := New(clk.tick)
	for _, in := range ins {
		tr.Insert(in.text, in.tenant)
	}
	checkTree(t, tr)
	return tr, clk
}

func TestMatch(t *testing.T) {
	cases := []struct {
		name    string
		inserts []insert
		text    string
		matched int
		total   int
		tenants []string
	}{
		{"empty tree", nil, "hello", 0, 5, nil},
		{"empty text", []insert{{"hello", "A"}}, "", 0, 0, nil},
		{"exact", []insert{{"hello world", "A"}}, "hello world", 11, 11, []string{"A"}},
		{"text longer than the tree", []insert{{"hello", "A"}}, "hello world", 5, 11, []string{"A"}},
		{"ends inside a node", []insert{{"hello world", "A"}}, "hello there", 6, 11, []string{"A"}},
		{"no common prefix", []insert{{"hello", "A"}}, "xyz", 0, 3, nil},
		{"shared prefix has both tenants", []insert{{"hello world", "A"}, {"hello there", "B"}}, "hello", 5, 5, []string{"A", "B"}},
		{"deeper node has one tenant", []insert{{"hello world", "A"}, {"hello there", "B"}}, "hello world!", 11, 12, []string{"A"}},
		{"same text twice is one stamp", []insert{{"abc", "A"}, {"abc", "A"}}, "abc", 3, 3, []string{"A"}},
		{"cjk", []insert{{"你好世界", "A"}, {"你好朋友", "B"}}, "你好吗", 2, 3, []string{"A", "B"}},
		{"cjk sharing lead bytes does not match", []insert{{"中文", "A"}}, "丫文", 0, 2, nil},
		{"emoji sharing three bytes", []insert{{"🎉🎊x", "A"}}, "🎉🎈x", 1, 3, []string{"A"}},
		{"accented letters", []insert{{"café au lait", "A"}}, "cafê", 3, 4, []string{"A"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr, _ := build(t, c.inserts...)
			r := tr.Match(c.text)
			slices.Sort(r.Tenants)
			if r.Matched != c.matched || r.Total != c.total || !slices.Equal(r.Tenants, c.tenants) {
				t.Fatalf("Match(%q) = %d/%d %v, want %d/%d %v", c.text, r.Matched, r.Total, r.Tenants, c.matched, c.total, c.tenants)
			}
		})
	}
}

func TestMatchRate(t *testing.T) {
	tr, _ := build(t, insert{"abcd", "A"})
	if got := tr.Match("abcdefgh").Rate(); got != 0.5 {
		t.Fatalf("rate %v, want 0.5", got)
	}
	if got := tr.Match("").Rate(); got != 0 {
		t.Fatalf("empty text rate %v, want 0", got)
	}
}

func TestSizesCountCharactersPerTenant(t *testing.T) {
	tr, _ := build(t,
		insert{"hello world", "A"},
		insert{"hello there", "B"},
		insert{"hello", "B"},
		insert{"你好🎉", "C"},
	)
	want := map[string]int{"A": 11, "B": 11, "C": 3}
	if got := tr.Sizes(); !maps.Equal(got, want) {
		t.Fatalf("Sizes = %v, want %v", got, want)
	}
	if tr.Size("B") != 11 || tr.Size("nobody") != 0 {
		t.Fatalf("Size(B) = %d, Size(nobody) = %d", tr.Size("B"), tr.Size("nobody"))
	}
}

func TestEvictRemovesLeastRecentlyUsedLeavesFirst(t *testing.T) {
	tr, _ := build(t,
		insert{"aaaa", "A"}, // t1
		insert{"bbbb", "A"}, // t2
		insert{"cccc", "A"}, // t3
		insert{"aaaa", "A"}, // t4: a is now the freshest
	)
	tr.Evict(8)
	if got := present(tr, "A", "aaaa", "bbbb", "cccc"); !slices.Equal(got, []string{"aaaa", "cccc"}) {
		t.Fatalf("after Evict(8) A holds %v, want [aaaa cccc]", got)
	}
	tr.Insert("dddd", "A")
	tr.Evict(8)
	if got := present(tr, "A", "aaaa", "cccc", "dddd"); !slices.Equal(got, []string{"aaaa", "dddd"}) {
		t.Fatalf("after the second Evict A holds %v, want [aaaa dddd]", got)
	}
	if tr.Size("A") != 8 {
		t.Fatalf("size %d, want 8", tr.Size("A"))
	}
	checkTree(t, tr)
}

func TestEvictTrimsLeavesBeforeTheirParents(t *testing.T) {
	tr, _ := build(t,
		insert{"abcdef", "A"},
		insert{"abcxyz", "A"},
		insert{"abcdef", "A"},
	)
	tr.Evict(6) // xyz is the oldest leaf; abc is not a leaf
	if r := tr.Match("abcxyz"); r.Matched != 3 {
		t.Fatalf("xyz should be gone, matched %d", r.Matched)
	}
	tr.Evict(3)
	if r := tr.Match("abcdef"); r.Matched != 3 || tr.Size("A") != 3 {
		t.Fatalf("want only abc left, matched %d size %d", r.Matched, tr.Size("A"))
	}
	tr.Evict(0)
	if n := checkTree(t, tr); n != 0 || tr.Size("A") != 0 {
		t.Fatalf("Evict(0) left %d nodes, size %d", n, tr.Size("A"))
	}
}

func TestEvictLimitsEachTenantSeparately(t *testing.T) {
	tr, _ := build(t,
		insert{"shared prefix A", "A"},
		insert{"shared prefix B", "B"},
		insert{"only A text", "A"},
	)
	tr.Evict(15)
	if tr.Size("A") > 15 || tr.Size("B") != 15 {
		t.Fatalf("sizes %v", tr.Sizes())
	}
	r := tr.Match("shared prefix B")
	if r.Matched != 15 || !slices.Equal(r.Tenants, []string{"B"}) {
		t.Fatalf("B's text must survive A's eviction: %+v", r)
	}
	checkTree(t, tr)
}

func TestRemoveTenant(t *testing.T) {
	tr, _ := build(t,
		insert{"hello world", "A"},
		insert{"hello there", "B"},
		insert{"goodbye", "A"},
	)
	tr.RemoveTenant("A")
	if _, ok := tr.Sizes()["A"]; ok {
		t.Fatalf("A still listed: %v", tr.Sizes())
	}
	if r := tr.Match("hello world"); r.Matched != 6 || !slices.Equal(r.Tenants, []string{"B"}) {
		t.Fatalf("after removal Match = %+v, want 6 chars for B", r)
	}
	if r := tr.Match("goodbye"); r.Matched != 0 {
		t.Fatalf("A's own nodes should be gone, matched %d", r.Matched)
	}
	if n := checkTree(t, tr); n != 2 {
		t.Fatalf("%d nodes left, want 2 (hello , there)", n)
	}
	tr.RemoveTenant("nobody")
	tr.Insert("hello world", "A")
	if tr.Size("A") != 11 {
		t.Fatalf("re-added A has size %d", tr.Size("A"))
	}
	checkTree(t, tr)
}

func TestMalformedTextIsStoredAsValidUTF8(t *testing.T) {
	bad := "x" + strings.Repeat("\x80", 1000)
	tr, _ := build(t, insert{bad, "A"}, insert{"\x80\x80ab", "A"}, insert{"a\x80b", "A"})
	for _, text := range []string{bad, "\x80\x80ab"} {
		valid := strings.ToValidUTF8(text, "\uFFFD")
		if r := tr.Match(valid); r.Matched != r.Total {
			t.Errorf("%q is stored as %q: Match = %+v", text, valid, r)
		}
	}
	if r := tr.Match("a\x80b"); r.Matched != 2 || r.Total != 2 {
		t.Errorf("a short stray byte is stored as is and not counted: %+v", r)
	}
	checkTree(t, tr)
	stored := 0
	tr.root.kids.each(func(n *node) bool { stored += len(n.label); return true })
	if stored > 4*tr.Size("A") {
		t.Fatalf("stored %d bytes for %d characters", stored, tr.Size("A"))
	}
}

// present returns which texts are fully matched with tenant on the end node.
func present(tr *Tree, tenant string, texts ...string) []string {
	var out []string
	for _, s := range texts {
		r := tr.Match(s)
		if r.Matched == r.Total && slices.Contains(r.Tenants, tenant) {
			out = append(out, s)
		}
	}
	return out
}

// TestInsertKeepsNoReferenceToItsText: the router inserts answers from a
// buffer it reuses, so what the tree holds must not change with it.
func TestInsertKeepsNoReferenceToItsText(t *testing.T) {
	tr, _ := build(t, insert{"hello world", "A"})
	buf := []byte("hello world and the answer")
	tr.Insert(unsafe.String(&buf[0], len(buf)), "A") // splits nothing, adds a leaf
	buf2 := []byte("hello there")
	tr.Insert(unsafe.String(&buf2[0], len(buf2)), "B") // splits "hello world"
	for i := range buf {
		buf[i] = 'x'
	}
	for i := range buf2 {
		buf2[i] = 'y'
	}
	if r := tr.Match("hello world and the answer"); r.Matched != r.Total {
		t.Errorf("after the buffer changed: matched %d of %d", r.Matched, r.Total)
	}
	if r := tr.Match("hello there"); r.Matched != r.Total || !slices.Equal(r.Tenants, []string{"B"}) {
		t.Errorf("after the buffer changed: matched %d of %d, tenants %v", r.Matched, r.Total, r.Tenants)
	}
}
