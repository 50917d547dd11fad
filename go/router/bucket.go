package router

import (
	"context"
	"sync"
	"time"
)

// bucket is a token bucket: up to capacity tokens, refilled at rate per
// second; each admitted request takes one. It is safe for concurrent use;
// mu guards tokens and last.
type bucket struct {
	capacity, rate float64
	now            func() time.Time

	mu     sync.Mutex
	tokens float64 // may go negative: tokens promised to waiting requests
	last   time.Time
}

func newBucket(capacity, rate float64, now func() time.Time) *bucket {
	if now == nil {
		now = time.Now
	}
	return &bucket{capacity: capacity, rate: rate, now: now, tokens: capacity, last: now()}
}

// reserve takes a token, now or promised for later: it returns how long the
// caller must wait for it, or false when that would exceed maxWait (then
// nothing is taken).
func (b *bucket) reserve(maxWait time.Duration) (time.Duration, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	b.tokens = min(b.capacity, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	wait := time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
	if wait > maxWait {
		return 0, false
	}
	b.tokens--
	return wait, true
}

// unreserve gives back a token whose request left before using it.
func (b *bucket) unreserve() {
	b.mu.Lock()
	b.tokens = min(b.capacity, b.tokens+1)
	b.mu.Unlock()
}

// take admits one request: at once, after waiting up to maxWait for a
// token (ErrQueueTimeout beyond), or not at all when maxWait is 0
// (ErrQueueFull, like a full queue).
func (b *bucket) take(ctx context.Context, maxWait time.Duration) error {
	wait, ok := b.reserve(maxWait)
	switch {
	case !ok && maxWait == 0:
		return ErrQueueFull
	case !ok:
		return ErrQueueTimeout
	case wait == 0:
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		b.unreserve()
		return ctx.Err()
	}
}
