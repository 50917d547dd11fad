package router

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/sgl-project/sglang-router-go/go/mono"
	"github.com/sgl-project/sglang-router-go/go/worker"
)

// What every attempt, regular or PD, goes through: the in-flight
// bookkeeping, the deadline, the backoff between attempts and the circuit
// breaker. The decisions themselves are the outcome's (outcome.go).

// acquire counts a request dispatched to wk until the matching release:
// the worker's in-flight load, which the policies read, and the
// sgl_router_running_requests gauge. Every acquire is paired with one
// deferred release, which runs however the attempt ends.
func (rt *Router) acquire(wk *worker.Worker) {
	wk.Acquire()
	rt.rec.SetRunning(wk.URL(), wk.Load())
}

// release ends what acquire began.
func (rt *Router) release(wk *worker.Worker) {
	wk.Release()
	rt.rec.SetRunning(wk.URL(), wk.Load())
}

// withDeadline bounds c by the router's request timeout: c.ctx is the
// context of every attempt. The caller must call the returned cancel.
func (rt *Router) withDeadline(c *call) context.CancelFunc {
	if rt.opts.RequestTimeout <= 0 {
		var cancel context.CancelFunc
		c.ctx, cancel = context.WithCancel(c.r.Context())
		return cancel
	}
	c.deadline = requestCtx{Context: c.r.Context(), deadline: mono.Now().Add(rt.opts.RequestTimeout)}
	c.ctx = &c.deadline
	return func() {}
}

// requestCtx is a request's context bounded by the router's request
// timeout without a timer and a context per request (a WithTimeout cost a
// small request seven allocations and two timer-heap operations). Err and
// Deadline tell the deadline; Done is the client's, and does not close at
// the deadline: whatever waits on it enforces the deadline itself, as
// every wait of a forward does: the upstream client makes it its
// connection's deadline, proxy.Send's net/http path arms a timer, and a
// retry's backoff ends at it (sleep).
type requestCtx struct {
	context.Context // the client's request context
	deadline        time.Time
}

func (c *requestCtx) Deadline() (time.Time, bool) { return c.deadline, true }

// AfterFunc registers f on the client's context itself (whose Done is
// c's), directly when it has an AfterFunc method of its own (the router's
// HTTP/1.1 server's context does): without this method, context.AfterFunc
// would start a goroutine per request for a context that is not a
// standard one.
func (c *requestCtx) AfterFunc(f func()) func() bool {
	if a, ok := c.Context.(interface{ AfterFunc(func()) func() bool }); ok {
		return a.AfterFunc(f)
	}
	return context.AfterFunc(c.Context, f)
}

// Err is the client's context's error, or DeadlineExceeded once the
// deadline passed (context.Cause then returns it too).
func (c *requestCtx) Err() error {
	if err := c.Context.Err(); err != nil {
		return err
	}
	if !mono.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// beforeAttempt waits out the backoff before attempt number n (from 0) and
// reports whether the request may still be sent: the router's deadline,
// its shutdown and the client are checked before every attempt, so an
// expired request is never "tried" on the remaining workers.
func (rt *Router) beforeAttempt(c *call, n int) (failure, bool) {
	if n > 0 {
		sleep(c.ctx, rt.opts.Retry.backoff(n))
	}
	if err := c.ctx.Err(); err != nil {
		return failure{o: classifyErr(c.ctx, err), err: err}, false
	}
	if n > 0 {
		rt.rec.RecordRetry(c.route())
	}
	return failure{}, true
}

// failure is why an attempt did not answer the client: its class, and for
// the log only, the worker and the error (the client never sees either).
type failure struct {
	o   outcome
	wk  *worker.Worker // nil when no worker was involved
	err error
}

// failed settles an attempt of wk that ended in class o without an answer
// for the client, and returns it as a failure.
func (rt *Router) failed(c *call, wk *worker.Worker, o outcome, err error) failure {
	rt.settle(c.id, wk, o, err)
	return failure{o: o, wk: wk, err: err}
}

// settle feeds an attempt's class to wk's circuit breaker, and counts a
// failure of a PD worker in its pool's error family.
func (rt *Router) settle(id string, wk *worker.Worker, o outcome, err error) {
	switch {
	case o.chargesWorker():
		rt.workerFailed(id, wk, err)
		switch wk.Role() {
		case worker.Prefill:
			rt.rec.RecordPDPrefillError(wk.URL())
		case worker.Decode:
			rt.rec.RecordPDDecodeError(wk.URL())
		}
	case o.provesWorker():
		wk.RecordOutcome(true, mono.Now())
	}
}

// workerFailed feeds a failed attempt of request id to the worker's
// circuit breaker, and logs it.
func (rt *Router) workerFailed(id string, wk *worker.Worker, err error) {
	if wk.RecordOutcome(false, mono.Now()) {
		rt.log.Warn("circuit opened: worker taken out of rotation", zap.String("request_id", id),
			zap.String("worker", wk.URL()), zap.Error(err))
	} else if ce := rt.log.Check(zap.DebugLevel, "worker attempt failed"); ce != nil {
		ce.Write(zap.String("request_id", id), zap.String("worker", wk.URL()), zap.Error(err))
	}
}
