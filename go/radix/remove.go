package radix

// RemoveTenant forgets tenant: its stamps leave every node, nodes left
// without any tenant leave the tree, and Sizes no longer lists it. A later
// Insert for the same name starts a new, empty tenant.
//
// The tenant is marked dead before the sweep, so no insert racing with it
// can stamp a node the sweep already passed (stamps are added under the
// node's write lock, after the sweep's read lock of that node or seen by it).
func (t *Tree) RemoveTenant(tenant string) {
	t.mu.Lock()
	ten := t.tenants[tenant]
	delete(t.tenants, tenant)
	t.mu.Unlock()
	if ten == nil {
		return
	}
	ten.dead.Store(true)
	nodes := t.stamped(ten)
	for i := len(nodes) - 1; i >= 0; i-- { // descendants before ancestors
		t.unstamp(nodes[i], ten)
	}
}

// stamped lists, parents before children, the nodes stamped for ten.
func (t *Tree) stamped(ten *tenant) []*node {
	var out, kids []*node
	stack := []*node{t.root}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n.mu.RLock()
		if n.stampOf(ten) != nil {
			out = append(out, n)
		}
		kids = n.kids.appendTo(kids[:0])
		n.mu.RUnlock()
		stack = append(stack, kids...)
	}
	return out
}

// unstamp removes ten's stamp from n, and n itself when that leaves it empty.
func (t *Tree) unstamp(n *node, ten *tenant) {
	p := t.lockPair(n)
	if p == nil {
		return
	}
	n.dropStamp(ten, &t.mem)
	gone := n.empty()
	if gone {
		p.detach(n, &t.mem)
	}
	n.mu.Unlock()
	prune := gone && p != t.root && p.empty()
	p.mu.Unlock()
	if prune {
		t.prune(p)
	}
}
