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
	c.tree.SetMemoryLimit(o.MaxTreeMemory)
	return c
}

func (*cacheTree) NeedsText() bool { return true }

// Run keeps the tree within its budgets until ctx is done: every interval
// each worker is evicted down to maxTree characters, and whenever an
// insert takes the tree over the high-water mark of its memory budget the
// tree is evicted back under it at once (inserts never wait for this).
func (c *cacheTree) Run(ctx context.Context) {
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.tree.Evict(c.maxTree)
			c.tree.EvictMemory()
		case <-c.tree.Pressure():
			c.tree.EvictMemory()
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
// It keeps the tree's answer in seen, so that recording the text after the
// choice (radix.Tree.InsertMatched) does not compare it again.
func (c *cacheTree) match(buf []string, text string, seen *radix.Result) []string {
	if text == "" {
		return nil
	}
	r := c.tree.MatchAppend(buf, text)
	*seen = r
	if r.Rate() <= c.threshold {
		return nil
	}
	return r.Tenants
}

// CacheAware routes a request to a worker that was sent a long prefix of its
// text, so the worker's KV cache likely holds it, unless the pool is
// imbalanced (the rules, in order):
//  0. a request with a session key goes to its Sticky worker;
//  1. imbalanced in-flight counts: the least-loaded candidate;
//     a router that is alone (see solo: for a while every worker's polled
//     load matched what this router sent it) then places for balance
//     (balanceFirst) instead of rules 2 and 3, which exist so that
//     replicas agree;
//  2. match rate above the threshold: among the tenants of the matched
//     node that are not overloaded (see overloaded: hot's bound plus
//     leaveSlack, a worker keeps the prefixes it holds a little longer
//     than it takes new ones), the one ranked first by rendezvous
//     hashing of the text's leading block; when every tenant is
//     overloaded the request is treated as a miss, so the prefix gains a
//     worker;
//  3. a miss: the candidate ranked first for the leading block among
//     those that are not hot (placeMiss).
//
// The text is then recorded for the picked worker. Workers not among the
// candidates (unhealthy, removed) are never returned, even when the tree
// still lists them.
//
// Why rendezvous hashing: router replicas share nothing, and each used to
// place a prefix it had not seen on its own (the smallest tree at or
// below the mean load), so the same prefix landed on up to N workers; in
// the routing benchmark 3 replicas kept 58% of one router's hit rate on
// shared prefixes, 8 replicas 37%. Ranking workers by a hash of the
// prefix's leading block gives every replica, and a replica that just
// started, the same choice, and the same next choice when a worker is
// hot; the bound on load (consistent hashing with bounded loads) keeps the
// spread even. Ranking hits the same way keeps replicas that saw a prefix
// spill to a second worker from splitting it further.
type CacheAware struct {
	cacheTree
	solo *solo
}

// A matched worker is hot when its in-flight count exceeds
// hotFactor × the candidates' mean + hotSlack: the bounded-load rule of
// consistent hashing with bounded loads (Mirrokni, Thorup and
// Zadimoghaddam, 2018) with capacity factor 1.25. No worker then carries
// much more than its share, yet a prefix moves only when its worker is
// clearly busier than the rest, since each move costs an uncached
// prefill. In the routing benchmark 1.25 kept every workload within
// 1.08 max/mean; 1.5 moved fewer prefixes but let four hot prefixes on
// eight workers reach 1.09 and nearly twice the TTFT p99. hotSlack makes a
// worker hot only when it is more than one request above the mean, so at
// low load a single request never moves a prefix.
const (
	hotFactor = 1.25
	hotSlack  = 1
)

// A worker that holds the matched prefix is left only when it is
// overloaded: more than leaveSlack requests above hot's bound, or its
// batch (nearly) full (hysteresis). Leaving the worker that holds a prefix costs the whole
// prompt's prefill elsewhere, and between replicas it is also a
// disagreement: a replica that did not see the move keeps sending the
// prefix to the worker it left, and one that sees its worker a request
// hotter than another replica does moves it alone. Measured (routing
// benchmark, decisions logged against the simulated caches): with 8
// replicas, spills of a prefix from the worker that held it, by workers
// at most 1.5 requests above the bound, cost multi-turn 3-4% of its
// prompt tokens. A factor instead (1.5 × mean + 2) kept busy prefixes on
// workers past their engines' batch: TTFT p99 1.1-1.7 s on shared
// prefixes, max/mean 1.30. The same slack for the hashed worker of a miss
// (it likely holds the prefix: the other replicas place it there) kept
// multi-turn at 99-100% of the oracle but took max/mean to 1.25-1.28 on
// shared prefixes, so a miss still avoids hot workers.
const leaveSlack = 2

// NewCacheAware returns a CacheAware; the caller runs its Run loop.
func NewCacheAware(o Options) *CacheAware {
	return &CacheAware{cacheTree: newCacheTree(o), solo: newSolo(o.Clock)}
}

func (*CacheAware) Name() string { return NameCacheAware }

func (p *CacheAware) Pick(cands []*worker.Worker, text string) *worker.Worker {
	w, _ := p.Decide(cands, Request{Text: text})
	return w
}

// Decide is Pick for a request that may carry a session key: a session
// goes to its Sticky worker (every replica agrees), else the rules above
// apply. The text is recorded for the worker picked either way.
func (p *CacheAware) Decide(cands []*worker.Worker, req Request) (*worker.Worker, Reason) {
	if len(cands) == 0 {
		return nil, ReasonNone
	}
	var seen radix.Result
	w, why := p.choose(cands, req, &seen)
	p.tree.InsertMatched(seen, req.Text, w.URL())
	return w, why
}

// RecordAnswer records text, a request's text continued by the answer
// worker sent, as held by worker: the next turn, which resends that
// answer, then matches worker. The tree's budgets bound it like any
// insert. Before this, a turn with a long previous answer and a short
// question matched only the text earlier requests carried, fell under
// the threshold and was routed as a miss. The tree copies what it keeps
// of text (see radix.Tree.Insert).
func (p *CacheAware) RecordAnswer(worker, text string) { p.tree.Insert(text, worker) }

// Alone reports whether the router takes itself to be alone (see solo).
func (p *CacheAware) Alone() bool { return p.solo.isAlone() }

// choose applies the rules; a match it makes is kept in seen.
func (p *CacheAware) choose(cands []*worker.Worker, req Request, seen *radix.Result) (*worker.Worker, Reason) {
	if req.Session != "" {
		if w := Sticky(cands, req.Session); w != nil {
			return w, Session
		}
	}
	if p.imbalanced(cands) {
		p.obs.LoadImbalanced()
		return p.leastLoaded(cands), Imbalance
	}
	pr := pressureOf(cands)
	if p.solo.alone(cands) {
		return p.balanceFirst(cands, req.Text, pr, seen)
	}
	var buf [16]string
	if w := rankedTenant(cands, p.match(buf[:0], req.Text, seen), req.Text, pr); w != nil {
		p.obs.CacheHit(w.URL())
		return w, CacheHit
	}
	w := p.placeMiss(cands, req.Text)
	p.obs.CacheMiss(w.URL())
	return w, CacheMiss
}

// balanceFirst is the rule of a router that is alone (see solo): it
// needs no agreement with other replicas, so it places for balance. A hit
// goes to the least-loaded tenant of the matched prefix unless that one is
// hot; a miss to the smallest tree among the candidates loaded at most the
// mean. Measured with one router against the hashed rule (routing
// benchmark, three runs): max/mean 1.00-1.12 instead of 1.19-1.25; TTFT
// p99 on shared prefixes 372-451 ms instead of 505 (round_robin about
// 400), on unshared prompts 179 instead of 398 (round_robin 153). It
// costs coding-chat hits: 92-94% of the oracle instead of 98%.
//
// It judges a tenant by its load alone, without busy's weight for
// requests waiting for their first token: a lone router sees all of
// them, and the weight then sent multi-turn's hits elsewhere as misses
// (one router: TTFT p99 230-278 ms instead of 119-149 in two full runs of
// the routing benchmark each, shared-prefix's hit rate 83-85% instead of
// 86%). Replicas each see a share, which is what the weight is for.
func (p *CacheAware) balanceFirst(cands []*worker.Worker, text string, pr pressure, seen *radix.Result) (*worker.Worker, Reason) {
	var buf [16]string
	if w := leastLoadedTenant(cands, p.match(buf[:0], text, seen)); w != nil && !pr.hot(load(w), w) {
		p.obs.CacheHit(w.URL())
		return w, CacheHit
	}
	w := p.smallestTreeAtMostMean(cands, pr.mean)
	p.obs.CacheMiss(w.URL())
	return w, CacheMiss
}

// leastLoadedTenant returns the least-loaded candidate among tenants, or
// nil.
func leastLoadedTenant(cands []*worker.Worker, tenants []string) *worker.Worker {
	var best *worker.Worker
	for _, w := range cands {
		if (best == nil || load(w) < load(best)) && contains(tenants, w.URL()) {
			best = w
		}
	}
	return best
}

// smallestTreeAtMostMean returns, among the candidates whose load is at
// most mean, the one with the smallest tree; ties go to the lower load,
// then to candidate order. Loads move while it reads them: if none is at
// most mean any more, the least loaded wins.
func (p *CacheAware) smallestTreeAtMostMean(cands []*worker.Worker, mean float64) *worker.Worker {
	var best *worker.Worker
	var bestLoad int64
	bestSize := 0
	for _, w := range cands {
		l := load(w)
		if float64(l) > mean {
			continue
		}
		s := p.tree.Size(w.URL())
		if best == nil || s < bestSize || (s == bestSize && l < bestLoad) {
			best, bestLoad, bestSize = w, l, s
		}
	}
	if best == nil {
		return p.leastLoaded(cands)
	}
	return best
}

// placeMiss places a prefix no candidate is known to hold: the rendezvous
// choice for its leading block among the candidates that are not hot, so
// every replica of the router places it alike without talking; text too
// short to key anything, or every candidate hot, goes by load.
func (p *CacheAware) placeMiss(cands []*worker.Worker, text string) *worker.Worker {
	if w := Home(cands, text); w != nil {
		return w
	}
	return p.leastLoaded(cands)
}

// hot reports whether w is too busy to take its prefix's next request.
// Its load is busy's: requests waiting for their first token weigh more
// (prefillWeight). Load is the worker's own figure when the router polls
// it, corrected by what this router dispatched since
// (worker.EstimatedLoad): router
// replicas each see only their share of the in-flight requests, and
// judged by those small, noisy counts they disagreed on which worker was
// hot, so a prefix moved on one replica and not on another (measured:
// multi-turn with 3 and 8 replicas kept 91% and 90% of one router's hit
// rate on their own counts, 96% and 94% on the load polled every 100 ms).
// Without polling it is the in-flight count.
//
// A worker whose running batch is full, or within leaveSlack requests of
// full (worker.Headroom: the batch its engine was last seen full at, less
// its estimated load), is hot too while another candidate has more room:
// a request sent there waits for a running one to end, seconds at a full
// batch, where a prefill elsewhere takes a fraction of that; and with
// replicas the estimate lags by the requests the others sent since the
// last poll. Measured: requests queued behind the full batch of a worker
// that still held their prefix were the slowest of skewed-prefix with 8
// replicas. When no candidate has room, load alone decides.
func hot(w *worker.Worker, pr pressure) bool { return pr.hot(busy(w), w) }

// hot is the package's hot for w at load l.
func (pr pressure) hot(l int64, w *worker.Worker) bool {
	return float64(l) > hotFactor*pr.mean+hotSlack || pr.full(w)
}

// overloaded reports whether w, which holds the request's prefix, is too
// busy to keep it (see leaveSlack); its load is read as hot's.
func overloaded(w *worker.Worker, pr pressure) bool {
	return float64(busy(w)) > hotFactor*pr.mean+hotSlack+leaveSlack || pr.full(w)
}

// pressure is what hot and overloaded judge a worker against: the
// candidates' mean load and whether one of them has room in its batch.
// The mean is of load, without busy's weight for requests waiting for
// their first token: that weight makes a worker with a prefill queue hot
// sooner, and in the mean it raised every other worker's bound instead
// (skewed prefixes with 3 and 8 replicas: max/mean 1.26 in one of two
// full runs of the routing benchmark).
type pressure struct {
	mean          float64
	roomElsewhere bool
}

func pressureOf(cands []*worker.Worker) pressure {
	var sum int64
	room := false
	for _, w := range cands {
		sum += load(w)
		room = room || !nearlyFull(w)
	}
	return pressure{mean: float64(sum) / float64(len(cands)), roomElsewhere: room}
}

// full reports whether w's batch is (nearly) full while another
// candidate's is not.
func (pr pressure) full(w *worker.Worker) bool { return pr.roomElsewhere && nearlyFull(w) }

// nearlyFull reports whether w's batch takes fewer than leaveSlack more
// requests; false while its batch is unknown.
func nearlyFull(w *worker.Worker) bool {
	n, ok := w.Headroom()
	return ok && n < leaveSlack
}

// prefillWeight is how many requests more than one a request still
// waiting for its first token counts for in hot's load (busy). Load
// counts requests, but a worker's first tokens wait on its one prefill
// queue: four requests there that are uncached 2048-token prefills keep
// the next request from its first token for a second, four decoding ones
// barely delay it. The router sees which of its streamed requests have
// not yet delivered a byte (worker.Worker.Prefilling); a worker with a
// queue of them is hot sooner. Measured (routing benchmark, shared
// prefixes with 3 replicas, where the slowest requests were new prefixes
// placed on the same worker in the first seconds): TTFT p99 445-543 ms
// over six runs with 4, 475-750 ms over seven without (round_robin
// 656-663); 8 gave 478-554 ms. Skewed prefixes, multi-turn and
// coding-chat did not move beyond their run-to-run spread. A replica
// sees only its own requests, and non-streamed ones are never counted
// (their first byte is the whole answer): without streaming nothing
// changes.
const prefillWeight = 4

// busy is w's load as hot judges it: the estimated load (load) plus
// prefillWeight for each request this router sent it that is still
// waiting for its first token.
func busy(w *worker.Worker) int64 { return load(w) + prefillWeight*w.Prefilling() }

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

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// rankedTenant returns, among the candidates that hold the matched prefix
// (tenants) and are not overloaded, the one ranked first by rendezvous
// hashing of the text's leading block, or nil.
func rankedTenant(cands []*worker.Worker, tenants []string, text string, pr pressure) *worker.Worker {
	if len(tenants) == 0 {
		return nil
	}
	return rendezvous(cands, keyHash(text), func(w *worker.Worker) bool { return contains(tenants, w.URL()) && !overloaded(w, pr) })
}
