package radix

import "unsafe"

// Comparisons a match already made. A cache_aware decision matches its
// text and then inserts the same text, and both walk the same path
// comparing the text with every label on it: for a long prompt that is
// already in the tree, each pass is a memory comparison of the whole text
// against labels too large for a core's cache. A Result therefore keeps a
// trail of the long labels its match found equal to the text, and
// InsertMatched takes such a label as equal, without comparing it, when the
// text is the one matched (the same bytes in memory, the same length).
//
// Why that is exact: the labels from the root to a node spell the same
// string for as long as the node is in the tree. A split only puts a new
// node above it holding the head of its label, and nodes are never merged
// or relabelled otherwise. So a node that the match found spelling a
// prefix of the text still does when the insert's walk, having followed
// the same text from the root, reaches it (it is then still in the tree):
// its label is the rest of that prefix, and the insert does exactly what
// Insert would. A step also keeps the label's offset and length and is
// used only while both are unchanged: a second line of defence, which
// costs only a comparison when a split moved the node down meanwhile.

const (
	trailSteps = 8   // labels a trail keeps: the first long ones of a path
	trailMin   = 256 // shortest label kept: shorter ones compare in nanoseconds
)

// trail is what a match learned, for the insert of the same text.
type trail struct {
	text  *byte // the matched text's bytes
	size  int   // and length
	n     int   // steps used
	steps [trailSteps]step
}

// step says that node n's label, of length size, equals the text at off.
type step struct {
	n         *node
	off, size int
}

func newTrail(text string) trail { return trail{text: unsafe.StringData(text), size: len(text)} }

// add records that c's label, read under c's lock, equals the text at off.
func (tr *trail) add(c *node, off int) {
	if len(c.label) >= trailMin && tr.n < trailSteps {
		tr.steps[tr.n] = step{n: c, off: off, size: len(c.label)}
		tr.n++
	}
}

// of returns tr when it was made by matching text, else nil.
func (tr *trail) of(text string) *trail {
	if tr.n == 0 || tr.text != unsafe.StringData(text) || tr.size != len(text) {
		return nil
	}
	return tr
}

// known reports whether c's label, read under c's lock, is known to equal
// the text at off. tr may be nil.
func (tr *trail) known(c *node, off int) bool {
	if tr == nil {
		return false
	}
	for _, s := range tr.steps[:tr.n] {
		if s.n == c {
			return s.off == off && s.size == len(c.label)
		}
	}
	return false
}
