package router

import (
	"context"
	"math/rand/v2"
	"net/http"
	"time"
)

// RetryPolicy bounds how a failed attempt is retried on another worker.
// Retries happen only before any byte reached the client.
type RetryPolicy struct {
	MaxRetries int // extra attempts after the first; 0 disables retries
	Initial    time.Duration
	Max        time.Duration
}

// retryableStatus lists worker answers that mean "try elsewhere": the worker
// is overloaded, timing out or broken, not the request (outcomeWorkerFailed).
// Other 5xx (501 not implemented, 505, 508 loop detected, ...) say the same
// about any worker of the pool, so they are passed on, never retried: a
// retried 508 would multiply the requests of a forwarding loop at every hop.
func retryableStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// backoff is the wait before retry number n (1-based): exponential from
// Initial, capped at Max, with full jitter in [d/2, d] so retries of many
// requests do not synchronise.
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.Initial
	for i := 1; i < n && d < p.Max; i++ {
		d *= 2
	}
	if d > p.Max {
		d = p.Max
	}
	if d <= 0 {
		return 0
	}
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
