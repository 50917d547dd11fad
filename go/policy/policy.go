// Package policy chooses a worker for a request. Every policy is a small type
// behind one interface; candidates arrive already filtered to the workers that
// may be picked now (healthy, circuit closed), so a policy never checks health.
package policy

import (
	"context"

	"github.com/sgl-project/sglang-router-go/go/worker"
)

// Policy picks one of candidates. Implementations are safe for concurrent use.
type Policy interface {
	// Name is the policy's configuration name ("round_robin", ...).
	Name() string
	// Pick returns one of candidates, or nil when candidates is empty.
	// text is the request's routing text; it is empty unless NeedsText.
	Pick(candidates []*worker.Worker, text string) *worker.Worker
	// NeedsText tells the router whether to extract routing text at all,
	// so text-blind policies do not pay for parsing.
	NeedsText() bool
}

// Observer receives the policy's decisions for metrics. Methods must be cheap
// and safe for concurrent use.
type Observer interface {
	CacheHit(worker string)
	CacheMiss(worker string)
	LoadImbalanced()
}

// Background is implemented by policies with upkeep (cache_aware eviction).
// Run blocks until ctx is done.
type Background interface {
	Run(ctx context.Context)
}

// WorkerRemover is implemented by policies that keep per-worker state;
// the router calls RemoveWorker when a worker leaves its pool.
type WorkerRemover interface {
	RemoveWorker(url string)
}

// TreeSizer is implemented by policies that keep a prefix tree; it reports
// each worker's character count for the tree-size metric.
type TreeSizer interface {
	TreeSizes() map[string]int
}

// AnswerRecorder is implemented by policies that learn from the answers
// the router relays (cache_aware): a worker's engine caches its own
// output, so once it answered, the request's text continued by the answer
// is what the next turn of that conversation will find there.
type AnswerRecorder interface {
	// RecordAnswer records text as held by the worker whose URL is
	// worker, within the policy's memory bounds. text is valid only
	// during the call (the router reuses its bytes): keep a copy of
	// whatever is kept.
	RecordAnswer(worker, text string)
}

// Soloist is implemented by policies that detect whether this router is
// the only one sending to its workers (cache_aware, see solo).
type Soloist interface {
	// Alone reports what the latest observations showed, without making
	// one.
	Alone() bool
}

// Reason says why a policy picked a worker. The router reports it in the
// decision headers and in sgl_router_routing_decisions_total.
type Reason uint8

const (
	ReasonNone Reason = iota // the policy does not say (text-blind policies)
	CacheHit                 // a worker was sent a long enough prefix of the text
	CacheMiss                // no usable match: the prefix was placed
	Imbalance                // the pool was imbalanced: the least-loaded worker
	Session                  // the session key's worker
	Fallback                 // a retry after a failed attempt, or no better choice
)

// String is the reason's name in headers and metric labels ("" for none).
func (r Reason) String() string {
	switch r {
	case CacheHit:
		return "cache_hit"
	case CacheMiss:
		return "cache_miss"
	case Imbalance:
		return "imbalance"
	case Session:
		return "session"
	case Fallback:
		return "fallback"
	}
	return ""
}

// Request is what a Decider routes on.
type Request struct {
	Text    string // routing text; empty unless the policy NeedsText
	Session string // session key (see reqbody.Info.Session); "" for none
}

// Decider is implemented by policies that route sessions themselves and
// say why they picked a worker. Decide returns nil only for empty cands.
type Decider interface {
	Decide(cands []*worker.Worker, req Request) (*worker.Worker, Reason)
}
