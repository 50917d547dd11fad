package radix

// leaf is a node (its index in a walk) queued for eviction with the stamp
// time it was seen with.
type leaf struct {
	node     int32
	last     int64
	requeued bool // queued again because it was used after the walk
}

// nodeLeaf is a node queued for eviction by EvictMemory, which keeps no
// walk, with the stamp time it was seen with.
type nodeLeaf struct {
	n        *node
	last     int64
	requeued bool // queued again because it was used after it was queued
}

func (l leaf) at() int64     { return l.last }
func (l nodeLeaf) at() int64 { return l.last }

// lruQueue is a binary min-heap of leaves by stamp time (oldest first),
// typed to avoid container/heap's boxing of every element.
type lruQueue[T interface{ at() int64 }] []T

func (q *lruQueue[T]) init() {
	for i := len(*q)/2 - 1; i >= 0; i-- {
		q.down(i)
	}
}

func (q *lruQueue[T]) push(e T) {
	*q = append(*q, e)
	h := *q
	for i := len(h) - 1; i > 0; {
		up := (i - 1) / 2
		if h[up].at() <= h[i].at() {
			break
		}
		h[up], h[i] = h[i], h[up]
		i = up
	}
}

func (q *lruQueue[T]) pop() T {
	h := *q
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	var zero T
	h[last] = zero
	*q = h[:last]
	q.down(0)
	return top
}

func (q *lruQueue[T]) down(i int) {
	h := *q
	for {
		small := i
		for _, c := range [2]int{2*i + 1, 2*i + 2} {
			if c < len(h) && h[c].at() < h[small].at() {
				small = c
			}
		}
		if small == i {
			return
		}
		h[i], h[small] = h[small], h[i]
		i = small
	}
}
