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
	// Multiplier grows the backoff per retry; below 1 means 2.
	Multiplier float64
	// Jitter spreads each backoff uniformly over d*(1±Jitter), so retries of
	// many requests do not synchronise; 0 means none.
	Jitter float64
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

// backoff is the wait before retry number n (1-based): Initial times
// Multiplier^(n-1), capped at Max, then jittered (the original's rule).
func (p RetryPolicy) backoff(n int) time.Duration {
	return p.backoffWith(n, rand.Float64)
}

// backoffWith is backoff with the random source injected; rnd returns a
// uniform number in [0, 1).
func (p RetryPolicy) backoffWith(n int, rnd func() float64) time.Duration {
	mult := p.Multiplier
	if mult < 1 {
		mult = 2
	}
	d := float64(p.Initial)
	for i := 1; i < n && d < float64(p.Max); i++ {
		d *= mult
	}
	d = min(d, float64(p.Max))
	if p.Jitter > 0 {
		d *= 1 + p.Jitter*(2*rnd()-1)
	}
	if d <= 0 {
		return 0
	}
	return time.Duration(d)
}

// sleep waits d or until ctx ends or reaches its deadline (the router's
// request context does not close Done at its deadline; see requestCtx).
func sleep(ctx context.Context, d time.Duration) {
	if dl, ok := ctx.Deadline(); ok {
		d = min(d, time.Until(dl))
	}
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
