package policy

import (
	"context"
	"time"

	"github.com/sgl-project/sglang-router-go/go/radix"
	"github.com/sgl-project/sglang-router-go/go/worker"
)

// cacheTree is the state cache_aware and its reference variant share: the
// prefix tree of what each worker was sent, the thresholds, and the upkeep
// (Background, WorkerRemover, TreeSizer).
type cacheTree struct {
	tree      *radix.Tree
	threshold float64
	absThresh int64
	relThresh float64
	maxTree   int
	interval  time.Duration
	obs       Observer
}

func newCacheTree(o Options) cacheTree {
	c := cacheTree{
		tree:      radix.New(o.Clock),
		threshold: o.CacheThreshold,
		absThresh: int64(o.BalanceAbsThreshold),
		relThresh: o.BalanceRelThreshold,
		maxTree:   o.MaxTreeSize,
		interval:  o.EvictionInterval,
		obs:       o.Observer,
	}
	if c.maxTree <= 0 {
		c.maxTree = DefaultOptions().MaxTreeSize
	}
	if c.interval <= 0 {
		c.interval = DefaultOptions().EvictionInterval
	}
	if c.obs == nil {
		c.obs = nopObserver{}
	}
	return c
}

func (*cacheTree) NeedsText() bool { return true }

// Run evicts every interval until each worker holds at most maxTree
// characters, until ctx is done.
func (c *cacheTree) Run(ctx context.Context) {
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.tree.Evict(c.maxTree)
		}
	}
}

// RemoveWorker drops everything the tree holds for the worker.
func (c *cacheTree) RemoveWorker(url string) { c.tree.RemoveTenant(url) }

// TreeSizes reports each worker's character count.
func (c *cacheTree) TreeSizes() map[string]int { return c.tree.Sizes() }

// imbalanced applies the balance thresholds to the in-flight counts.
func (c *cacheTree) imbalanced(cands []*worker.Worker) bool {
	lo, hi := cands[0].Load(), cands[0].Load()
	for _, w := range cands[1:] {
		l := w.Load()
		lo, hi = min(lo, l), max(hi, l)
	}
	return hi-lo > c.absThresh && float64(hi) > float64(lo)*c.relThresh
}

// match returns the matched node's tenants (in buf when they fit) if the
// text's match rate exceeds the threshold, else nil. Empty text never hits.
func (c *cacheTree) match(buf []string, text string) []string {
	if text == "" {
		return nil
	}
	r := c.tree.MatchAppend(buf, text)
	if r.Rate() <= c.threshold {
		return nil
	}
	return r.Tenants
}

// CacheAware routes a request to a worker that was sent a long prefix of its
// text, so the worker's KV cache likely holds it, unless the pool is
// imbalanced (SPEC section 6):
//  1. imbalanced in-flight counts: the least-loaded candidate;
//  2. match rate above the threshold: the least-loaded candidate among the
//     tenants of the matched node;
//  3. otherwise: the least-loaded candidate, ties to the smallest tree.
//
// The text is then recorded for the picked worker. Workers not among the
// candidates (unhealthy, removed) are never returned, even when the tree
// still lists them.
type CacheAware struct {
	cacheTree
}

// NewCacheAware returns a CacheAware; the caller runs its Run loop.
func NewCacheAware(o Options) *CacheAware { return &CacheAware{newCacheTree(o)} }

func (*CacheAware) Name() string { return NameCacheAware }

func (p *CacheAware) Pick(cands []*worker.Worker, text string) *worker.Worker {
	if len(cands) == 0 {
		return nil
	}
	w := p.choose(cands, text)
	p.tree.Insert(text, w.URL())
	return w
}

func (p *CacheAware) choose(cands []*worker.Worker, text string) *worker.Worker {
	if p.imbalanced(cands) {
		p.obs.LoadImbalanced()
		return p.leastLoaded(cands)
	}
	var buf [16]string
	if w := leastLoadedTenant(cands, p.match(buf[:0], text)); w != nil {
		p.obs.CacheHit(w.URL())
		return w
	}
	w := p.leastLoaded(cands)
	p.obs.CacheMiss(w.URL())
	return w
}

// leastLoaded returns the candidate with the fewest requests in flight,
// ties going to the smallest tree, then to candidate order.
func (p *CacheAware) leastLoaded(cands []*worker.Worker) *worker.Worker {
	best, bestLoad, bestSize := cands[0], cands[0].Load(), -1
	for _, w := range cands[1:] {
		l := w.Load()
		if l > bestLoad {
			continue
		}
		if l == bestLoad {
			if bestSize < 0 {
				bestSize = p.tree.Size(best.URL())
			}
			if s := p.tree.Size(w.URL()); s < bestSize {
				best, bestSize = w, s
			}
			continue
		}
		best, bestLoad, bestSize = w, l, -1
	}
	return best
}

// leastLoadedTenant returns the least-loaded candidate whose URL is among
// tenants (the first in candidate order on a tie), or nil.
func leastLoadedTenant(cands []*worker.Worker, tenants []string) *worker.Worker {
	var best *worker.Worker
	for _, w := range cands {
		if (best == nil || w.Load() < best.Load()) && contains(tenants, w.URL()) {
			best = w
		}
	}
	return best
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
