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
