// Package radix is the approximate prefix tree of the cache_aware policy: a
// radix tree over request text shared by several tenants (workers). Every
// node records which tenants were sent the prefix ending there, and when, so
// the policy can route a request to a worker that likely holds its prefix in
// its KV cache, and evict each tenant's least recently used prefixes to keep
// memory bounded.
//
// Sizes are counted in characters (Unicode scalar values; see text.go for
// invalid UTF-8), and matches never end inside a character.
//
// A Tree is safe for concurrent use and has no global lock on its nodes.
// Match and Insert descend with per-node read locks (lock coupling), so
// readers run in parallel with each other and with writers working elsewhere.
// A writer write-locks only the few consecutive nodes of one path it changes,
// for a bounded step: Insert when it adds a stamp, a leaf or a split, Evict
// and RemoveTenant one leaf and its parent at a time (their tree walks take
// read locks, one node at a time). See node for the locking rules.
package radix

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Tree is a multi-tenant approximate radix tree. The zero value is not
// usable; call New.
type Tree struct {
	clock func() time.Time
	root  *node

	mu      sync.RWMutex // guards tenants (the name index only)
	tenants map[string]*tenant

	evictMu sync.Mutex // serialises Evict and EvictMemory calls

	mem      atomic.Int64  // bytes the nodes hold (memory.go)
	memLimit atomic.Int64  // bytes the tree may hold; 0 = no limit
	pressure chan struct{} // see Pressure
}

// New returns an empty tree. clock stamps inserts for LRU eviction; nil
// means time.Now.
func New(clock func() time.Time) *Tree {
	if clock == nil {
		clock = time.Now
	}
	return &Tree{clock: clock, root: &node{}, tenants: map[string]*tenant{}, pressure: make(chan struct{}, 1)}
}

// Result is the outcome of a match.
type Result struct {
	Matched int      // characters of the text found along one path from the root
	Total   int      // characters in the text
	Tenants []string // tenants stamped on the node where the match ended
	seen    trail    // the long labels the match compared whole (InsertMatched)
}

// Rate is Matched/Total, or 0 for an empty text.
func (r Result) Rate() float64 {
	if r.Total == 0 {
		return 0
	}
	return float64(r.Matched) / float64(r.Total)
}

// Match finds the longest prefix of text present in the tree and the tenants
// that were sent it: those stamped on the node where the match ended, in the
// order they were stamped there. It does not change the tree, and allocates
// only the tenant slice (see MatchAppend).
func (t *Tree) Match(text string) Result { return t.MatchAppend(nil, text) }

// MatchAppend is Match appending the tenants to dst, so a caller with a
// stack buffer matches without allocating.
//
// The text is read once: compared with the labels along its path, and only
// its unmatched rest is counted (the matched part's characters are the
// labels' counts, and counts add up), so a full match of a long prompt
// costs one memory comparison.
func (t *Tree) MatchAppend(dst []string, text string) Result {
	r := Result{seen: newTrail(text)}
	n := t.root
	n.mu.RLock()
	rest := text
	for rest != "" {
		key, size := firstKey(rest)
		c := n.kids.get(key)
		if c == nil {
			break
		}
		c.mu.RLock()
		n.mu.RUnlock()
		n = c
		k := commonPrefix(c.label, rest, size)
		if k < len(c.label) {
			r.Matched += Count(rest[:k])
			rest = rest[k:]
			break
		}
		r.seen.add(c, len(text)-len(rest))
		r.Matched += c.chars
		rest = rest[k:]
	}
	for _, s := range n.stamps {
		if !s.t.dead.Load() {
			dst = append(dst, s.t.name)
		}
	}
	n.mu.RUnlock()
	r.Total, r.Tenants = r.Matched+Count(rest), dst
	return r
}

// Size returns the characters held for tenant (0 when unknown).
func (t *Tree) Size(tenant string) int {
	t.mu.RLock()
	ten := t.tenants[tenant]
	t.mu.RUnlock()
	if ten == nil {
		return 0
	}
	return int(ten.chars.Load())
}

// Sizes returns every tenant's character count.
func (t *Tree) Sizes() map[string]int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make(map[string]int, len(t.tenants))
	for name, ten := range t.tenants {
		out[name] = int(ten.chars.Load())
	}
	return out
}

// tenant returns the tenant named name, creating it on first use.
func (t *Tree) tenant(name string) *tenant {
	t.mu.RLock()
	ten := t.tenants[name]
	t.mu.RUnlock()
	if ten != nil {
		return ten
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if ten = t.tenants[name]; ten == nil {
		ten = &tenant{name: strings.Clone(name)}
		t.tenants[name] = ten
	}
	return ten
}

// liveTenants returns the tenants currently indexed.
func (t *Tree) liveTenants() []*tenant {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]*tenant, 0, len(t.tenants))
	for _, ten := range t.tenants {
		out = append(out, ten)
	}
	return out
}
