package router

import (
	"context"
	"net/http"
	"time"
)

// limiter bounds generation requests: up to max run at once, up to
// queueSize more wait (each at most queueTimeout), the rest get 429. With a
// rate, a token bucket also bounds admissions per second (bursts of up to
// max, or of one second's worth when concurrency is unlimited); a request
// without a token waits like a queued one.
type limiter struct {
	slots   chan struct{} // nil = unlimited
	waiting chan struct{} // queue tickets
	timeout time.Duration
	rate    *bucket // nil = no rate limit
}

func newLimiter(o Options) *limiter {
	l := &limiter{timeout: o.QueueTimeout}
	if o.MaxConcurrent > 0 {
		l.slots = make(chan struct{}, o.MaxConcurrent)
		l.waiting = make(chan struct{}, o.QueueSize)
	}
	if o.RateLimit > 0 {
		burst := float64(o.MaxConcurrent)
		if burst <= 0 {
			burst = max(1, o.RateLimit)
		}
		l.rate = newBucket(burst, o.RateLimit, nil)
	}
	return l
}

// acquire returns a release function, or ErrQueueFull / ErrQueueTimeout,
// or why ctx ended while it waited.
func (l *limiter) acquire(ctx context.Context) (func(), error) {
	release, err := l.acquireSlot(ctx)
	if err != nil || l.rate == nil {
		return release, err
	}
	maxWait := l.timeout
	if l.waiting != nil && cap(l.waiting) == 0 {
		maxWait = 0 // no queue: a request without a token is refused at once
	}
	if err := l.rate.take(ctx, maxWait); err != nil {
		release()
		return nil, err
	}
	return release, nil
}

// acquireSlot takes a concurrency slot (queueing for one if allowed).
func (l *limiter) acquireSlot(ctx context.Context) (func(), error) {
	if l.slots == nil {
		return func() {}, nil
	}
	release := func() { <-l.slots }
	select {
	case l.slots <- struct{}{}:
		return release, nil
	default:
	}
	select {
	case l.waiting <- struct{}{}:
	default:
		return nil, ErrQueueFull
	}
	defer func() { <-l.waiting }()
	timer := time.NewTimer(l.timeout)
	defer timer.Stop()
	select {
	case l.slots <- struct{}{}:
		return release, nil
	case <-timer.C:
		return nil, ErrQueueTimeout
	case <-ctx.Done():
		return nil, context.Cause(ctx) // the client left, or ErrShutdown
	}
}

// cors answers preflight requests and sets the allow-origin header for
// allowed origins. It reports whether the request was fully handled.
func (rt *Router) cors(w http.ResponseWriter, r *http.Request) bool {
	if len(rt.opts.CORSAllowedOrigins) == 0 {
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" || !originAllowed(rt.opts.CORSAllowedOrigins, origin) {
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-Id")
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return true
	}
	return false
}

func originAllowed(allowed []string, origin string) bool {
	for _, a := range allowed {
		if a == "*" || a == origin {
			return true
		}
	}
	return false
}
