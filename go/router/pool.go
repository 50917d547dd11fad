package router

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/sgl-project/sglang-router-go/go/mono"
	"github.com/sgl-project/sglang-router-go/go/policy"
	"github.com/sgl-project/sglang-router-go/go/worker"
)

// Pool is a set of workers of one role and the policy that picks among
// them: the regular pool, or the prefill or decode pool in PD mode. Its
// workers may serve several models: a pick for a model considers only the
// workers serving it, through that model's own policy instance (its own
// prefix tree), so models never share routing state.
type Pool struct {
	Role     worker.Role
	Registry *worker.Registry
	// Policy picks among all workers when a request names no model the
	// router knows of (and no model is learned at all).
	Policy policy.Policy
	// NewPolicy makes the policy of one model's workers; nil means Policy
	// serves every model. It is called once per model, when the first
	// request for that model is routed; the instance lives as long as the
	// pool (models come from workers and the operator, so they are few).
	NewPolicy func(model string) policy.Policy

	mu     sync.Mutex                               // serialises changes of models
	models atomic.Pointer[map[string]policy.Policy] // copy-on-write: read without a lock
}

// policyFor returns the policy of model's workers ("" = Policy).
func (p *Pool) policyFor(model string) policy.Policy {
	if model == "" || p.NewPolicy == nil {
		return p.Policy
	}
	if m := p.models.Load(); m != nil {
		if pol, ok := (*m)[model]; ok {
			return pol
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.models.Load()
	if old != nil {
		if pol, ok := (*old)[model]; ok {
			return pol
		}
	}
	next := make(map[string]policy.Policy, 1)
	if old != nil {
		for k, v := range *old {
			next[k] = v
		}
	}
	pol := p.NewPolicy(model)
	next[model] = pol
	p.models.Store(&next)
	return pol
}

// Policies returns every policy instance of the pool: Policy and those of
// the models (for upkeep and metrics).
func (p *Pool) Policies() []policy.Policy {
	out := []policy.Policy{p.Policy}
	if m := p.models.Load(); m != nil {
		for _, pol := range *m {
			out = append(out, pol)
		}
	}
	return out
}

// RemoveWorker drops the state every policy of the pool keeps for url.
func (p *Pool) RemoveWorker(url string) {
	for _, pol := range p.Policies() {
		if r, ok := pol.(policy.WorkerRemover); ok {
			r.RemoveWorker(url)
		}
	}
}

// pick returns an available worker of model ("" = any) not in exclude
// (workers already tried for this request), or nil. When every available
// worker was tried it may pick one of them again rather than fail.
func (p *Pool) pick(model, text string, exclude []*worker.Worker) *worker.Worker {
	wk, _ := p.decide(model, policy.Request{Text: text}, exclude)
	return wk
}

// decide is pick for a request that may carry a session key, and says
// why the worker was chosen. A policy that is a policy.Decider routes
// sessions itself; for the others a session goes to its policy.Sticky
// worker. A pick after a failed attempt is a Fallback whatever the policy
// says: the worker it would have preferred was tried.
func (p *Pool) decide(model string, req policy.Request, exclude []*worker.Worker) (*worker.Worker, policy.Reason) {
	cands := p.candidates(mono.Now(), model, exclude)
	if len(cands) == 0 && len(exclude) > 0 {
		cands = p.candidates(mono.Now(), model, nil)
	}
	if len(cands) == 0 {
		return nil, policy.ReasonNone
	}
	wk, why := choose(p.policyFor(model), cands, req)
	if len(exclude) > 0 {
		why = policy.Fallback
	}
	return wk, why
}

func choose(pol policy.Policy, cands []*worker.Worker, req policy.Request) (*worker.Worker, policy.Reason) {
	if d, ok := pol.(policy.Decider); ok {
		return d.Decide(cands, req)
	}
	if req.Session != "" {
		if wk := policy.Sticky(cands, req.Session); wk != nil {
			return wk, policy.Session
		}
	}
	return pol.Pick(cands, req.Text), policy.ReasonNone
}

// candidates filters the snapshot to available workers of model not
// excluded. In the common case (all usable, nothing excluded) it returns
// the snapshot itself, so the request path does not allocate.
func (p *Pool) candidates(now time.Time, model string, exclude []*worker.Worker) []*worker.Worker {
	all := p.Registry.Snapshot()
	ok := func(w *worker.Worker) bool {
		return w.Available(now) && (model == "" || w.Model() == model) && !contains(exclude, w)
	}
	for i, w := range all {
		if !ok(w) {
			return filter(all[:i:i], all[i+1:], ok)
		}
	}
	return all
}

// filter copies head (all usable) and the usable workers of tail into a new slice.
func filter(head, tail []*worker.Worker, ok func(*worker.Worker) bool) []*worker.Worker {
	out := make([]*worker.Worker, len(head), len(head)+len(tail))
	copy(out, head)
	for _, w := range tail {
		if ok(w) {
			out = append(out, w)
		}
	}
	return out
}

func contains(ws []*worker.Worker, w *worker.Worker) bool {
	for _, x := range ws {
		if x == w {
			return true
		}
	}
	return false
}

// anyAvailable returns the least-loaded available worker of model ("" =
// any) not yet tried, for forwards whose answer depends on no cache
// (tokenize, rerank, server info, ...).
func (p *Pool) anyAvailable(model string, tried []*worker.Worker) *worker.Worker {
	var best *worker.Worker
	for _, w := range p.candidates(mono.Now(), model, tried) {
		if best == nil || w.Load() < best.Load() {
			best = w
		}
	}
	return best
}
