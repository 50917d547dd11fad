package worker

import (
	"sync"
	"sync/atomic"
	"time"
)

// BreakerConfig sets the circuit breaker. A zero FailureThreshold disables it.
type BreakerConfig struct {
	FailureThreshold int           // consecutive failures that open the circuit
	SuccessThreshold int           // consecutive half-open successes that close it
	OpenFor          time.Duration // how long an open circuit rejects before probing
	// Window, when > 0, bounds how far apart failures may be to add up: a
	// failure more than Window after the previous one starts a new count.
	Window time.Duration
}

// Circuit states, as exported in the circuit-state metric.
const (
	CircuitClosed   = 0
	CircuitOpen     = 1
	CircuitHalfOpen = 2
)

// breaker takes a worker that keeps failing out of rotation for OpenFor, then
// lets traffic probe it (half-open) until SuccessThreshold requests succeed.
// allow is on the request path and reads one atomic; mu guards the counters
// and state transitions, which happen only when a request ends.
type breaker struct {
	cfg       BreakerConfig
	openUntil atomic.Int64 // unix nanos; 0 when closed

	mu          sync.Mutex
	failures    int
	successes   int
	lastFailure time.Time
	sawDown     bool // a health check failed since the last one passed
}

func (b *breaker) allow(now time.Time) bool {
	until := b.openUntil.Load()
	return until == 0 || now.UnixNano() >= until
}

func (b *breaker) state(now time.Time) int {
	switch until := b.openUntil.Load(); {
	case until == 0:
		return CircuitClosed
	case now.UnixNano() < until:
		return CircuitOpen
	default:
		return CircuitHalfOpen
	}
}

// record notes a request outcome and reports whether the circuit just opened.
func (b *breaker) record(ok bool, now time.Time) (opened bool) {
	if b.cfg.FailureThreshold <= 0 {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	halfOpen := b.openUntil.Load() != 0
	if ok {
		b.failures = 0
		if halfOpen {
			b.successes++
			if b.successes >= b.cfg.SuccessThreshold {
				b.openUntil.Store(0)
				b.successes = 0
			}
		}
		return false
	}
	b.successes = 0
	if b.cfg.Window > 0 && !b.lastFailure.IsZero() && now.Sub(b.lastFailure) > b.cfg.Window {
		b.failures = 0 // the previous failures are too old to count with this one
	}
	b.lastFailure = now
	b.failures++
	if halfOpen || b.failures >= b.cfg.FailureThreshold {
		b.failures = 0
		b.openUntil.Store(now.Add(b.cfg.OpenFor).UnixNano())
		return true
	}
	return false
}

// healthChecked lets health checks end a cool-down early: a worker that
// failed a check and then passes one again was most likely restarted, so an
// open circuit goes half-open at once and live traffic decides. A worker
// whose checks pass throughout keeps its cool-down: its failures are in
// answering requests, which the check does not see.
func (b *breaker) healthChecked(ok bool, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !ok {
		b.sawDown = true
		return
	}
	if !b.sawDown {
		return
	}
	b.sawDown = false
	if until := b.openUntil.Load(); until != 0 && now.UnixNano() < until {
		b.openUntil.Store(now.UnixNano())
		b.successes = 0
	}
}

// WithBreaker configures the circuit breaker; call it before the worker is
// shared (it is not synchronised).
func (w *Worker) WithBreaker(cfg BreakerConfig) *Worker {
	w.breaker.cfg = cfg
	return w
}

// RecordOutcome feeds a request's result to the circuit breaker and reports
// whether the circuit opened because of it.
func (w *Worker) RecordOutcome(ok bool, now time.Time) (opened bool) {
	return w.breaker.record(ok, now)
}

// CircuitState is CircuitClosed, CircuitOpen, CircuitHalfOpen, or
// CircuitStalled while stall detection holds the worker out of rotation.
func (w *Worker) CircuitState(now time.Time) int {
	if w.Stalled() {
		return CircuitStalled
	}
	return w.breaker.state(now)
}
