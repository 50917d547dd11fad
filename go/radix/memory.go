package radix

import (
	"math"
	"slices"
	"unsafe"
)

// Memory. Characters are what users budget per worker (max_tree_size), but
// they are not what the tree costs: a prompt that branches at every
// character makes a node per character, about 200 bytes each. So the tree
// also counts bytes, estimated from what its allocations take: every node
// costs its struct, its slot in the parent's child set and its label; every
// stamp costs its struct and its slot in the node's stamp slice. The tree
// keeps the total (Bytes) and, per tenant, the cost of the nodes stamped for
// it (a node shared by k tenants counts once in the total and k times among
// the tenants). The estimates round up like Go's allocator, with the slack
// of a slice grown by appending, so the live heap stays at or below them.
//
// With a memory limit (SetMemoryLimit) the limit is a ceiling: an insert
// that finds the tree at the limit records only the part of its text that
// is already stored (and refreshes it), and a new leaf is published only if
// its bytes fit. An insert that takes the tree over the high-water mark
// (90%) signals Pressure, whose reader (the policy's upkeep loop) calls
// EvictMemory; it brings the tree back to the low-water mark (80%). Between
// the two an insert never waits for eviction: under a flood faster than
// eviction the tree stops learning, it does not grow.

// Costs, in bytes (constants in effect: computed once from type sizes).
var (
	// nodeBytes is a node's struct plus its slot in the parent's child set
	// (a key and a pointer, up to twice that while the slices grow).
	nodeBytes = allocSize(int(unsafe.Sizeof(node{}))) + 2*(4+8)
	// stampBytes is a stamp's struct and its slot in a node's stamp slice
	// (a pointer, up to twice that while the slice grows).
	stampBytes = allocSize(int(unsafe.Sizeof(stamp{}))) + 2*8
)

// Water marks of the memory limit, in percent.
const (
	highWater = 90 // an insert crossing it signals Pressure
	lowWater  = 80 // EvictMemory evicts down to it
)

// sizeClasses are the Go allocator's size classes for small objects
// (internal/runtime/gc/sizeclasses.go, unchanged for many releases).
var sizeClasses = []int{8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240,
	256, 288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408,
	1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192,
	9472, 9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264,
	28672, 32768}

// allocSize is what allocating n bytes takes: the size class a small
// object is rounded up to, or whole 8 KiB pages for a large one. (Objects
// under 16 bytes without pointers may share a block; counting their class
// errs on the safe side.)
func allocSize(n int) int64 {
	if n <= 0 {
		return 0
	}
	if i, _ := slices.BinarySearch(sizeClasses, n); i < len(sizeClasses) {
		return int64(sizeClasses[i])
	}
	const page = 8 << 10
	return int64((n + page - 1) / page * page)
}

// cost is the bytes n takes, without its stamps. Its label changes only
// under the locks that pin it (see node), so callers holding either lock
// read a stable value.
func (n *node) cost() int64 { return nodeBytes + allocSize(len(n.label)) }

// SetMemoryLimit sets the bytes the tree may hold; 0 removes the limit.
// Call it before the tree is used, or at any time: a lower limit takes
// effect at the next EvictMemory.
func (t *Tree) SetMemoryLimit(bytes int64) { t.memLimit.Store(max(bytes, 0)) }

// Bytes is the tree's estimated memory (see the costs above).
func (t *Tree) Bytes() int64 { return t.mem.Load() }

// Pressure receives a value when an insert takes the tree over the
// high-water mark of its memory limit; the receiver should call
// EvictMemory. It never blocks an insert (one pending signal at most).
func (t *Tree) Pressure() <-chan struct{} { return t.pressure }

// mark returns percent of the memory limit, or 0 without a limit.
func (t *Tree) mark(percent int64) int64 { return t.memLimit.Load() / 100 * percent }

// full reports whether the tree is at its memory limit.
func (t *Tree) full() bool {
	limit := t.memLimit.Load()
	return limit > 0 && t.mem.Load() >= limit
}

// reserve counts n more bytes unless that would take the tree over its
// limit (then it counts nothing and reports false).
func (t *Tree) reserve(n int64) bool {
	limit := t.memLimit.Load()
	if after := t.mem.Add(n); limit > 0 && after > limit {
		t.mem.Add(-n)
		return false
	}
	return true
}

// signalPressure tells the evictor the tree passed the high-water mark.
func (t *Tree) signalPressure() {
	if high := t.mark(highWater); high > 0 && t.mem.Load() > high {
		select {
		case t.pressure <- struct{}{}:
		default:
		}
	}
}

// EvictMemory brings a tree above the high-water mark of its memory limit
// down to the low-water mark. Which tenants give way is decided by
// water-filling over their bytes: the largest are trimmed to a common
// level, so a flood sent to one worker evicts that worker's prefixes and
// leaves the others' alone. Each trimmed tenant loses its least recently
// used leaves first. Unlike Evict it keeps no picture of the whole tree,
// only a queue of one tenant's leaves at a time, so eviction itself needs
// little memory when the tree is at its limit.
func (t *Tree) EvictMemory() {
	high, low := t.mark(highWater), t.mark(lowWater)
	if high == 0 || t.mem.Load() <= high {
		return
	}
	t.evictMu.Lock()
	defer t.evictMu.Unlock()
	for pass := 0; pass < maxEvictPasses && t.mem.Load() > low; pass++ {
		tenants := t.liveTenants()
		held := make([]int64, len(tenants))
		var sum int64
		for i, ten := range tenants {
			held[i] = ten.bytes.Load()
			sum += held[i]
		}
		// Shared nodes count once in the total but once per tenant in sum:
		// aim the tenants' sum at the same share of it as the total's.
		total := max(t.mem.Load(), 1)
		level := waterLevel(held, int64(float64(low)*float64(sum)/float64(total)))
		for _, ten := range tenants {
			if ten.bytes.Load() > level {
				t.trimTenant(ten, level, low)
			}
		}
	}
}

// waterLevel returns the level L at which the held amounts, each capped at
// L, sum to budget (the largest when they all fit).
func waterLevel(held []int64, budget int64) int64 {
	asc := slices.Clone(held)
	slices.Sort(asc)
	for i, h := range asc {
		share := budget / int64(len(asc)-i)
		if h > share {
			return max(share, 0)
		}
		budget -= h
	}
	return math.MaxInt64
}

// trimTenant evicts ten's least recently used leaves until it holds at most
// keep bytes or the tree is down to floor.
func (t *Tree) trimTenant(ten *tenant, keep, floor int64) {
	q := t.leavesOf(ten)
	for ten.bytes.Load() > keep && t.mem.Load() > floor && len(q) > 0 {
		e := q.pop()
		seen := e.last
		if e.requeued { // hot leaf met twice: evict it now, so trimming ends
			seen = math.MaxInt64
		}
		newer, last, parent, done := t.evictLeaf(e.n, ten, seen)
		switch {
		case newer: // used since it was queued: requeue with its new time
			q.push(nodeLeaf{e.n, last, true})
		case done && parent != t.root:
			if last, ok := leafOf(parent, ten); ok {
				q.push(nodeLeaf{parent, last, false})
			}
		}
	}
}

// leavesOf queues ten's leaves: the nodes stamped for it none of whose
// children are. The walk visits only nodes stamped for ten (stamps are
// prefix-closed), each read-locked alone.
func (t *Tree) leavesOf(ten *tenant) lruQueue[nodeLeaf] {
	var q lruQueue[nodeLeaf]
	var kids []*node
	stack := []*node{t.root}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n.mu.RLock()
		kids = n.kids.appendTo(kids[:0])
		var last int64
		s := n.stampOf(ten)
		if s != nil {
			last = s.last.Load()
		}
		n.mu.RUnlock()
		leaf := s != nil
		for _, c := range kids {
			c.mu.RLock()
			stamped := c.stampOf(ten) != nil
			c.mu.RUnlock()
			if stamped {
				stack = append(stack, c)
				leaf = false
			}
		}
		if leaf {
			q = append(q, nodeLeaf{n, last, false})
		}
	}
	q.init()
	return q
}

// leafOf returns the time of ten's stamp on n if n is one of its leaves.
func leafOf(n *node, ten *tenant) (last int64, ok bool) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	s := n.stampOf(ten)
	if s == nil || n.removed || n.kidHas(ten) {
		return 0, false
	}
	return s.last.Load(), true
}
