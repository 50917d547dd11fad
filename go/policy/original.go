package policy

import (
	"github.com/sgl-project/sglang-router-go/go/radix"
	"github.com/sgl-project/sglang-router-go/go/worker"
)

// CacheAwareOriginal reproduces the original router's cache-aware rule, as
// a baseline for benchmarks (it is not offered to users):
//   - imbalanced: the least-loaded candidate, and the text is not recorded;
//   - match rate above the threshold: the first tenant of the matched node
//     (in the order they were stamped there) that is a candidate;
//   - otherwise: the candidate with the smallest tree, whatever its load.
//
// It shares CacheAware's tree and upkeep.
type CacheAwareOriginal struct {
	cacheTree
}

// NewCacheAwareOriginal returns a CacheAwareOriginal.
func NewCacheAwareOriginal(o Options) *CacheAwareOriginal {
	return &CacheAwareOriginal{newCacheTree(o)}
}

func (*CacheAwareOriginal) Name() string { return NameCacheAwareOriginal }

func (p *CacheAwareOriginal) Pick(cands []*worker.Worker, text string) *worker.Worker {
	if len(cands) == 0 {
		return nil
	}
	if p.imbalanced(cands) {
		p.obs.LoadImbalanced()
		return leastInFlight(cands)
	}
	var buf [16]string
	var seen radix.Result
	w := firstTenant(cands, p.match(buf[:0], text, &seen))
	if w != nil {
		p.obs.CacheHit(w.URL())
	} else {
		w = p.smallestTree(cands)
		p.obs.CacheMiss(w.URL())
	}
	p.tree.InsertMatched(seen, text, w.URL())
	return w
}

// firstTenant returns the candidate for the first of tenants that is one.
func firstTenant(cands []*worker.Worker, tenants []string) *worker.Worker {
	for _, t := range tenants {
		for _, w := range cands {
			if w.URL() == t {
				return w
			}
		}
	}
	return nil
}

// smallestTree returns the candidate holding the fewest characters.
func (p *CacheAwareOriginal) smallestTree(cands []*worker.Worker) *worker.Worker {
	best, bestSize := cands[0], p.tree.Size(cands[0].URL())
	for _, w := range cands[1:] {
		if s := p.tree.Size(w.URL()); s < bestSize {
			best, bestSize = w, s
		}
	}
	return best
}

// leastInFlight returns the candidate with the fewest requests in flight.
func leastInFlight(cands []*worker.Worker) *worker.Worker {
	best := cands[0]
	for _, w := range cands[1:] {
		if w.Load() < best.Load() {
			best = w
		}
	}
	return best
}
