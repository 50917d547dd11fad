package router

import (
	"time"

	"github.com/sgl-project/sglang-router-go/go/policy"
	"github.com/sgl-project/sglang-router-go/go/worker"
)

// Pool is a set of interchangeable workers and the policy that picks among
// them: the regular pool, or the prefill or decode pool in PD mode.
type Pool struct {
	Role     worker.Role
	Registry *worker.Registry
	Policy   policy.Policy
}

// pick returns an available worker not in exclude (workers already tried for
// this request), or nil. When every available worker was tried it may pick
// one of them again rather than fail.
func (p *Pool) pick(text string, exclude []*worker.Worker) *worker.Worker {
	wk, _ := p.decide(policy.Request{Text: text}, exclude)
	return wk
}

// decide is pick for a request that may carry a session key, and says
// why the worker was chosen. A policy that is a policy.Decider routes
// sessions itself; for the others a session goes to its policy.Sticky
// worker. A pick after a failed attempt is a Fallback whatever the policy
// says: the worker it would have preferred was tried.
func (p *Pool) decide(req policy.Request, exclude []*worker.Worker) (*worker.Worker, policy.Reason) {
	cands := p.candidates(time.Now(), exclude)
	if len(cands) == 0 && len(exclude) > 0 {
		cands = p.candidates(time.Now(), nil)
	}
	if len(cands) == 0 {
		return nil, policy.ReasonNone
	}
	wk, why := p.choose(cands, req)
	if len(exclude) > 0 {
		why = policy.Fallback
	}
	return wk, why
}

func (p *Pool) choose(cands []*worker.Worker, req policy.Request) (*worker.Worker, policy.Reason) {
	if d, ok := p.Policy.(policy.Decider); ok {
		return d.Decide(cands, req)
	}
	if req.Session != "" {
		if wk := policy.Sticky(cands, req.Session); wk != nil {
			return wk, policy.Session
		}
	}
	return p.Policy.Pick(cands, req.Text), policy.ReasonNone
}

// candidates filters the snapshot to available workers not excluded. In the
// common case (all available, nothing excluded) it returns the snapshot
// itself, so the request path does not allocate.
func (p *Pool) candidates(now time.Time, exclude []*worker.Worker) []*worker.Worker {
	all := p.Registry.Snapshot()
	for i, w := range all {
		if !w.Available(now) || contains(exclude, w) {
			return filter(all[:i:i], all[i+1:], now, exclude)
		}
	}
	return all
}

// filter copies head (all usable) and the usable workers of tail into a new slice.
func filter(head, tail []*worker.Worker, now time.Time, exclude []*worker.Worker) []*worker.Worker {
	out := make([]*worker.Worker, len(head), len(head)+len(tail))
	copy(out, head)
	for _, w := range tail {
		if w.Available(now) && !contains(exclude, w) {
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

// anyAvailable returns the least-loaded available worker not yet tried, for
// forwards that do not go through the policy (models, server info).
func (p *Pool) anyAvailable(tried []*worker.Worker) *worker.Worker {
	var best *worker.Worker
	for _, w := range p.candidates(time.Now(), tried) {
		if best == nil || w.Load() < best.Load() {
			best = w
		}
	}
	return best
}
