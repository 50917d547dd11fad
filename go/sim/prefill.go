package sim

import (
	"sync"
	"time"
)

// prefillLane is a server's prefill capacity. An SGLang server has one
// scheduler: every step it batches waiting prefills under a token budget
// (chunked prefill), so the whole server computes uncached prompt tokens
// at a bounded rate, and one request's long prefill delays the next
// one's first token. The lane models that as a FIFO queue served at
// PrefillTokensPerSec: a request's prefill starts when the lane has
// finished the prefills booked before it. Requests do not prefill in
// parallel, so uncached tokens cost queueing for every request on the
// server, as they do on a GPU.
//
// Booked time is never given back: a request abandoned during its
// prefill has already been scheduled on the GPU. Safe for concurrent use.
type prefillLane struct {
	mu   sync.Mutex
	free time.Time // when the work booked so far is done
}

// book appends work of duration d for a request ready at now and returns
// when that work ends: max(now, end of the work booked before) + d. An
// idle lane does not bank time: work never starts before now.
func (l *prefillLane) book(now time.Time, d time.Duration) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	start := now
	if l.free.After(now) {
		start = l.free
	}
	l.free = start.Add(d)
	return l.free
}
