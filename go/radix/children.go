package radix

// smallKids is the size up to which a child set is a slice searched linearly
// (faster than hashing for the few children most nodes have).
const smallKids = 8

// children maps a first-character key to a child. Small sets are parallel
// slices; larger ones a map, rebuilt when it shrinks to a quarter of its peak
// because Go maps never give memory back (the root's set grows and shrinks
// with every random prompt). Guarded by the owning node's mu.
type children struct {
	keys  []uint32
	nodes []*node
	big   map[uint32]*node
	peak  int
}

func (c *children) len() int {
	if c.big != nil {
		return len(c.big)
	}
	return len(c.keys)
}

func (c *children) get(key uint32) *node {
	if c.big != nil {
		return c.big[key]
	}
	for i, k := range c.keys {
		if k == key {
			return c.nodes[i]
		}
	}
	return nil
}

// put adds or replaces the child under key.
func (c *children) put(key uint32, n *node) {
	if c.big != nil {
		c.big[key] = n
		c.peak = max(c.peak, len(c.big))
		return
	}
	for i, k := range c.keys {
		if k == key {
			c.nodes[i] = n
			return
		}
	}
	if len(c.keys) < smallKids {
		c.keys = append(c.keys, key)
		c.nodes = append(c.nodes, n)
		return
	}
	c.big = make(map[uint32]*node, 2*smallKids)
	for i, k := range c.keys {
		c.big[k] = c.nodes[i]
	}
	c.keys, c.nodes = nil, nil
	c.put(key, n)
}

func (c *children) del(key uint32) {
	if c.big != nil {
		delete(c.big, key)
		c.shrink()
		return
	}
	for i, k := range c.keys {
		if k == key {
			last := len(c.keys) - 1
			c.keys[i], c.nodes[i] = c.keys[last], c.nodes[last]
			c.nodes[last] = nil
			c.keys, c.nodes = c.keys[:last], c.nodes[:last]
			return
		}
	}
}

// shrink gives a map's memory back once it holds a quarter of its peak.
func (c *children) shrink() {
	n := len(c.big)
	if n > smallKids/2 && n*4 > c.peak {
		return
	}
	old := c.big
	c.big, c.peak = nil, 0
	if n > smallKids/2 {
		c.big, c.peak = make(map[uint32]*node, n), n
	}
	for k, v := range old {
		c.put(k, v)
	}
}

// each calls f for every child until f returns false.
func (c *children) each(f func(*node) bool) {
	if c.big != nil {
		for _, n := range c.big {
			if !f(n) {
				return
			}
		}
		return
	}
	for _, n := range c.nodes {
		if !f(n) {
			return
		}
	}
}

// appendTo appends the children to dst.
func (c *children) appendTo(dst []*node) []*node {
	if c.big != nil {
		for _, n := range c.big {
			dst = append(dst, n)
		}
		return dst
	}
	return append(dst, c.nodes...)
}
