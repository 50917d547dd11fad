// Package worker owns the router's view of its workers: identity (immutable)
// and live state (atomics), the copy-on-write Registry, health checks and the
// circuit breaker.
package worker

import (
	"strconv"
	"sync/atomic"
	"time"
)

// Role says which pool a worker serves in.
type Role uint8

const (
	Regular Role = iota
	Prefill
	Decode
)

func (r Role) String() string {
	switch r {
	case Prefill:
		return "prefill"
	case Decode:
		return "decode"
	}
	return "regular"
}

// Worker is one inference server. Identity fields never change after New;
// live state is atomic, so a Worker is safe for concurrent use and a
// registry update never resets counters (the same *Worker is carried over).
type Worker struct {
	url           string // identity: base, or base@rank for a data-parallel rank
	base          string // where requests go
	rank          int    // data-parallel rank; -1 for a whole server
	dpSize        int    // the server's dp_size for a rank; 0 for a whole server
	role          Role
	bootstrapPort *int // prefill only; nil means "none"

	inFlight   atomic.Int64 // requests dispatched and not yet fully delivered
	prefilling atomic.Int64 // streamed requests dispatched, no first byte yet
	polled     atomic.Int64 // load reported by /get_load; -1 when unknown
	polledAt   atomic.Int64 // inFlight when polled was recorded
	batch      atomic.Int64 // running batch the engine was last seen full at; 0 = never seen full
	processed  atomic.Uint64
	healthy    atomic.Bool
	breaker    breaker
	healthRuns healthCounter
	progress   progress
	model      modelState
}

// New returns a worker that is not yet healthy: it becomes healthy when a
// health check passes (or MarkHealthy is called).
func New(url string, role Role, bootstrapPort *int) *Worker {
	w := &Worker{url: url, base: url, rank: -1, role: role, bootstrapPort: bootstrapPort}
	w.polled.Store(-1)
	return w
}

// NewRank returns a worker for data-parallel rank rank of the server at
// base (SGLang with data-parallel attention): a routable unit with its own
// load, health verdict and breaker, named base@rank as the original router
// names it. Requests go to base and carry the rank in their body.
func NewRank(base string, rank, dpSize int, role Role, bootstrapPort *int) *Worker {
	w := New(base, role, bootstrapPort)
	w.url, w.rank, w.dpSize = RankURL(base, rank), rank, dpSize
	return w
}

// RankURL is the name of rank of the server at base: base@rank.
func RankURL(base string, rank int) string { return base + "@" + strconv.Itoa(rank) }

// URL is the worker's identity: its base URL, or base@rank for a
// data-parallel rank. It keys the registry, policy state and metrics.
func (w *Worker) URL() string { return w.url }

// BaseURL is where requests, health checks and load polls go.
func (w *Worker) BaseURL() string { return w.base }

// DPRank is the data-parallel rank this worker stands for, and false for a
// whole server.
func (w *Worker) DPRank() (int, bool) { return w.rank, w.rank >= 0 }

// DPSize is the dp_size of a rank's server, 0 for a whole server.
func (w *Worker) DPSize() int { return w.dpSize }

func (w *Worker) Role() Role { return w.role }

// BootstrapPort is the prefill bootstrap port, or nil.
func (w *Worker) BootstrapPort() *int { return w.bootstrapPort }

// Load is the number of requests in flight through this router.
func (w *Worker) Load() int64 { return w.inFlight.Load() }

// PolledLoad is the worker's own load from /get_load, or -1 if unknown.
func (w *Worker) PolledLoad() int64 { return w.polled.Load() }

// SetPolledLoad records a /get_load answer (-1 for unknown) that says
// nothing about requests waiting for a batch slot.
func (w *Worker) SetPolledLoad(n int64) { w.SetPolled(n, 0) }

// SetPolled records a /get_load answer: n requests (-1 for unknown), of
// which waiting wait for a place in the running batch. An answer with
// requests waiting shows the batch full at n - waiting; one with more
// running than the batch known so far raises it (an engine's batch is
// bounded by its KV memory too, so it moves).
func (w *Worker) SetPolled(n, waiting int64) {
	w.polledAt.Store(w.inFlight.Load())
	w.polled.Store(n)
	switch {
	case n < 0:
	case waiting > 0:
		w.batch.Store(max(n-waiting, 1))
	case n > w.batch.Load() && w.batch.Load() > 0:
		w.batch.Store(n)
	}
}

// Headroom estimates how many more requests the worker's running batch
// takes before requests wait for a place in it: the batch it was last
// seen full at less its estimated load (EstimatedLoad); negative when
// requests wait. ok is false while it was never seen full, or when its
// load is unknown.
func (w *Worker) Headroom() (n int64, ok bool) {
	batch := w.batch.Load()
	if batch == 0 || w.polled.Load() < 0 {
		return 0, false
	}
	return batch - w.EstimatedLoad(), true
}

// UnseenLoad is how many more requests the worker reported at its last
// /get_load answer than this router had in flight to it then: requests
// other routers sent. ok is false when the worker was never polled or its
// answer was unknown (-1).
func (w *Worker) UnseenLoad() (n int64, ok bool) {
	polled := w.polled.Load()
	if polled < 0 {
		return 0, false
	}
	return polled - w.polledAt.Load(), true
}

// EstimatedLoad is the worker's load now: its last /get_load answer
// corrected by what this router dispatched and saw finish since (a poll is
// seconds old, and picking by a stale figure herds every request onto the
// worker that was idle at the last poll), or the in-flight count when the
// worker was never polled.
func (w *Worker) EstimatedLoad() int64 {
	polled := w.polled.Load()
	if polled < 0 {
		return w.inFlight.Load()
	}
	return max(0, polled+w.inFlight.Load()-w.polledAt.Load())
}

// Acquire counts a dispatched request. Every Acquire must be paired with
// exactly one Release, after the response was fully delivered or failed.
func (w *Worker) Acquire() { w.inFlight.Add(1) }

// Release ends what Acquire began and counts the request as processed.
func (w *Worker) Release() {
	w.inFlight.Add(-1)
	w.processed.Add(1)
}

// StartPrefill counts a dispatched streamed request as waiting for its
// first token; EndPrefill, called exactly once for each StartPrefill, ends
// that when its first byte arrived or the attempt ended without one.
func (w *Worker) StartPrefill() { w.prefilling.Add(1) }

// EndPrefill ends what StartPrefill began.
func (w *Worker) EndPrefill() { w.prefilling.Add(-1) }

// Prefilling is the number of streamed requests this router sent the
// worker that have not yet delivered their first byte: requests queued
// for, or in, their prefill.
func (w *Worker) Prefilling() int64 { return w.prefilling.Load() }

// Processed counts requests released on this worker.
func (w *Worker) Processed() uint64 { return w.processed.Load() }

// Healthy reports the last health verdict.
func (w *Worker) Healthy() bool { return w.healthy.Load() }

// SetHealthy sets the health verdict directly (tests, startup).
func (w *Worker) SetHealthy(ok bool) { w.healthy.Store(ok) }

// Available reports whether the worker may be picked now: healthy, its
// circuit not open, not stalled, and its model known if it must be
// (ExpectModel).
func (w *Worker) Available(now time.Time) bool {
	return w.healthy.Load() && !w.progress.stalled.Load() && w.breaker.allow(now) && w.model.routable()
}
