package router

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/sgl-project/sglang-router-go/go/proxy"
	"github.com/sgl-project/sglang-router-go/go/worker"
)

// statusClientGone is recorded when the client left before an answer; it
// is never written (nobody is listening).
const statusClientGone = 499

// picker chooses a worker for one attempt, avoiding those already tried.
type picker func(tried []*worker.Worker) *worker.Worker

// call is one request being forwarded: what to send and where it started.
type call struct {
	w     http.ResponseWriter
	r     *http.Request
	id    string
	path  string
	body  []byte
	start time.Time
}

// forward sends c to a worker chosen by pick and writes the answer back.
// Connection errors and retryable statuses are retried on another worker
// (bounded, with backoff) as long as nothing was written to the client. The
// worker's in-flight count covers the whole delivery. Returns the status.
func (rt *Router) forward(c *call, pick picker) int {
	ctx, cancel := context.WithTimeout(c.r.Context(), rt.opts.RequestTimeout)
	defer cancel()
	var tried []*worker.Worker
	var lastErr error
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			rt.rec.RecordRetry(c.path)
			if !sleep(c.r, rt.opts.Retry.backoff(attempt)) {
				return statusClientGone
			}
		}
		wk := pick(tried)
		if wk == nil {
			if lastErr == nil {
				lastErr = ErrNoWorker
			}
			return rt.fail(c, lastErr)
		}
		tried = append(tried, wk)
		final := attempt >= rt.opts.Retry.MaxRetries
		status, err, done := rt.attempt(ctx, c, wk, final)
		if done {
			return status
		}
		lastErr = err
		if final {
			return rt.fail(c, err)
		}
	}
}

// attempt sends c to wk. done=true means the answer (success or a final
// error) was delivered and status says what it was; otherwise err says why
// the attempt failed and it may be retried.
func (rt *Router) attempt(ctx context.Context, c *call, wk *worker.Worker, final bool) (status int, err error, done bool) {
	wk.Acquire()
	rt.rec.SetRunning(wk.URL(), wk.Load())
	defer func() {
		wk.Release()
		rt.rec.SetRunning(wk.URL(), wk.Load())
	}()
	resp, err := rt.proxy.Send(ctx, c.r.Method, wk.URL()+c.path, c.r.Header, c.body, rt.extraHeaders(c))
	if err != nil {
		if c.r.Context().Err() != nil {
			return statusClientGone, nil, true
		}
		rt.workerFailed(c.id, wk, err)
		return 0, fmt.Errorf("%w (%s): %v", errWorkerFailure, wk.URL(), err), false
	}
	if retryableStatus(resp.StatusCode) && !final {
		rt.workerFailed(c.id, wk, fmt.Errorf("status %d", resp.StatusCode))
		proxy.Drain(resp)
		return 0, fmt.Errorf("%w (%s): status %d", errWorkerFailure, wk.URL(), resp.StatusCode), false
	}
	return rt.deliver(c, wk, resp), nil, true
}

// deliver copies the worker's answer to the client, streaming if it is an
// event stream, and records the outcome.
func (rt *Router) deliver(c *call, wk *worker.Worker, resp *http.Response) int {
	ok := resp.StatusCode < 500
	d := proxy.Delivery{FirstByte: func() { rt.rec.RecordTTFT(c.path, time.Since(c.start)) }}
	err := proxy.WriteResponse(c.w, resp, &d)
	switch {
	case err == nil:
	case errors.Is(err, proxy.ErrClientGone), c.r.Context().Err() != nil:
		return statusClientGone // cancelling the upstream read is not the worker's failure
	default:
		// The worker broke mid-answer: the status line is gone, so the only
		// honest signal left is to abort the client's connection.
		rt.workerFailed(c.id, wk, err)
		panic(http.ErrAbortHandler)
	}
	wk.RecordOutcome(ok, time.Now())
	rt.rec.RecordProcessed(wk.URL())
	return resp.StatusCode
}

// workerFailed feeds a failed attempt of request id to the worker's
// circuit breaker, and logs it.
func (rt *Router) workerFailed(id string, wk *worker.Worker, err error) {
	if wk.RecordOutcome(false, time.Now()) {
		rt.log.Warn("circuit opened: worker taken out of rotation", zap.String("request_id", id),
			zap.String("worker", wk.URL()), zap.Error(err))
	} else if ce := rt.log.Check(zap.DebugLevel, "worker attempt failed"); ce != nil {
		ce.Write(zap.String("request_id", id), zap.String("worker", wk.URL()), zap.Error(err))
	}
}

// fail writes err for c unless the client is gone.
func (rt *Router) fail(c *call, err error) int {
	if c.r.Context().Err() != nil {
		return statusClientGone
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return writeErrorStatus(c.w, http.StatusGatewayTimeout, "request timed out after "+rt.opts.RequestTimeout.String())
	}
	return writeError(c.w, err)
}

// extraHeaders are added to every forwarded request: the request id, and
// the router's API key when the client sent no credentials.
func (rt *Router) extraHeaders(c *call) http.Header {
	h := http.Header{"X-Request-Id": {c.id}}
	if rt.opts.APIKey != "" && c.r.Header.Get("Authorization") == "" {
		h["Authorization"] = []string{"Bearer " + rt.opts.APIKey}
	}
	return h
}
