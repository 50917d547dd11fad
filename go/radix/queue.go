package radix

// leaf is a node (its index in a walk) queued for eviction with the stamp
// time it was seen with.
type leaf struct {
	node     int32
	last     int64
	requeued bool // queued again because it was used after the walk
}

// leafQueue is a binary min-heap of leaves by stamp time (oldest first),
// typed to avoid container/heap's boxing of every element.
type leafQueue []leaf

func (q *leafQueue) init() {
	for i := len(*q)/2 - 1; i >= 0; i-- {
		q.down(i)
	}
}

func (q *leafQueue) push(e leaf) {
	*q = append(*q, e)
	h := *q
	for i := len(h) - 1; i > 0; {
		up := (i - 1) / 2
		if h[up].last <= h[i].last {
			break
		}
		h[up], h[i] = h[i], h[up]
		i = up
	}
}

func (q *leafQueue) pop() leaf {
	h := *q
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h[last] = leaf{}
	*q = h[:last]
	q.down(0)
	return top
}

func (q *leafQueue) down(i int) {
	h := *q
	for {
		small := i
		for _, c := range [2]int{2*i + 1, 2*i + 2} {
			if c < len(h) && h[c].last < h[small].last {
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
