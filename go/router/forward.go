package router

import (
	"context"
	"net/http"
	"time"

	"github.com/sgl-project/sglang-router-go/go/proxy"
	"github.com/sgl-project/sglang-router-go/go/reqbody"
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
	ctx   context.Context // r's context bounded by the request timeout (withDeadline)
	id    string
	path  string
	body  []byte
	edit  reqbody.Edit // sets fields in a generation body; zero for other requests
	hops  int          // routers the request went through before this one
	start time.Time
	extra [3]proxy.Field    // see extraHeaders
	tried [4]*worker.Worker // backs forward's list of tried workers
	// deadline backs ctx when the router has a request timeout (see
	// withDeadline): kept in the call, it costs no allocation.
	deadline requestCtx
	model    string         // the model whose workers serve it ("" = any worker)
	rid      string         // the body's "rid", when it names one
	last     *worker.Worker // the worker of the latest attempt (the one that answered)
	// pinned, when set, is tried first: the worker that stores the
	// response a Responses request continues (previous_response_id).
	pinned *worker.Worker
	// label, when set, is the route label of the request's metrics
	// instead of path (a path with an id in it: labels stay bounded).
	label string
	// answer says how to record the answer in the policy's tree (see
	// answers.go); zero: not at all.
	answer answerPlan
	// stream is the body's "stream": true: the answer's first byte is
	// the first token, so the attempt counts as prefilling until then
	// (worker.Worker.Prefilling).
	stream bool
	// prefilling is set while the current attempt is counted in its
	// worker's Prefilling figure; whichever of the first byte and the
	// attempt's end comes first clears it.
	prefilling bool
}

// endPrefill ends the attempt's count in wk's Prefilling figure, once.
func (c *call) endPrefill(wk *worker.Worker) {
	if c.prefilling {
		c.prefilling = false
		wk.EndPrefill()
	}
}

// route is the route label of c's metrics.
func (c *call) route() string {
	if c.label != "" {
		return c.label
	}
	return c.path
}

// forward sends c to a worker chosen by pick and writes the answer back.
// An attempt whose class is retryable is retried on another worker
// (bounded, with backoff) as long as nothing was written to the client.
// Returns the handler reply (see outcome.reply).
func (rt *Router) forward(c *call, pick picker) int {
	cancel := rt.withDeadline(c)
	defer cancel()
	tried := c.tried[:0]
	var last failure
	for n := 0; ; n++ {
		if f, ok := rt.beforeAttempt(c, n); !ok {
			return rt.fail(c, f)
		}
		wk := pick(tried)
		if wk == nil {
			if last.o == outcomeNone {
				return writeError(c.w, ErrNoWorker)
			}
			return rt.fail(c, last)
		}
		tried = append(tried, wk)
		final := n >= rt.opts.Retry.MaxRetries
		reply, f := rt.attempt(c, wk, final)
		if reply != 0 {
			return reply
		}
		last = f
		if final || !f.o.retryable() {
			return rt.fail(c, f)
		}
	}
}

// attempt sends c to wk. It returns the handler reply once the client got
// an answer (or left); else, with reply 0, the failure that may be retried.
// A retryable error status is passed on only on the final attempt.
func (rt *Router) attempt(c *call, wk *worker.Worker, final bool) (reply int, f failure) {
	rt.acquire(wk)
	defer rt.release(wk)
	if c.stream {
		wk.StartPrefill()
		c.prefilling = true
		defer c.endPrefill(wk)
	}
	resp, err := rt.proxy.Send(c.ctx, c.r.Method, wk.BaseURL()+c.path, c.r.Header, rt.bodyFor(c, wk), rt.extraHeaders(c))
	if err != nil {
		return 0, rt.failed(c, wk, classifyErr(c.ctx, err), err)
	}
	wk.Answered()
	if o := classify(c.ctx, nil, resp.StatusCode); o.retryable() && !final {
		proxy.Drain(resp)
		return 0, rt.failed(c, wk, o, statusError(resp.StatusCode))
	}
	return rt.deliver(c, wk, resp), failure{}
}

// deliver copies the worker's answer to the client, streaming if it is an
// event stream.
func (rt *Router) deliver(c *call, wk *worker.Worker, resp *http.Response) int {
	d := proxy.Delivery{FirstByte: func() {
		c.endPrefill(wk)
		rt.rec.RecordTTFT(c.route(), time.Since(c.start))
	}}
	record := rt.tapAnswer(c, wk, resp, &d)
	err := proxy.WriteResponse(c.w, resp, &d)
	record(err)
	return rt.delivered(c, wk, resp, err)
}

// delivered settles an answer of wk that was relayed to the client and
// ended with err (nil if it was complete), and returns the handler reply.
// An answer that broke off is cut (see cut).
func (rt *Router) delivered(c *call, wk *worker.Worker, resp *http.Response, err error) int {
	o := classify(c.ctx, err, resp.StatusCode)
	rt.settle(c.id, wk, o, err)
	switch {
	case err == nil:
		rt.rec.RecordProcessed(wk.URL())
		return o.reply(resp.StatusCode)
	case o == outcomeClientGone:
		return o.reply(statusClientGone)
	}
	return rt.cut(c, failure{o: o, wk: wk, err: err}, proxy.IsEventStream(resp.Header))
}

// extraHeaders are added to every forwarded request: the request id, the
// hop count, and the router's API key when the client sent no credentials.
// They are kept in c, so a request costs no header map.
func (rt *Router) extraHeaders(c *call) []proxy.Field {
	c.extra[0] = proxy.Field{Key: "X-Request-Id", Value: c.id}
	c.extra[1] = proxy.Field{Key: HopHeader, Value: nextHop(c.hops)[0]}
	if rt.bearer != "" && c.r.Header.Get("Authorization") == "" {
		c.extra[2] = proxy.Field{Key: "Authorization", Value: rt.bearer}
		return c.extra[:3]
	}
	return c.extra[:2]
}

// bodyFor is c's body as wk receives it: for a data-parallel rank
// (dp_aware) of a generation request, with "data_parallel_rank" set, so
// SGLang's data-parallel controller sends it to that rank. Other bodies
// go as they came.
func (rt *Router) bodyFor(c *call, wk *worker.Worker) []byte {
	rank := rankOf(wk)
	if rank < 0 || c.edit.Body() == nil {
		return c.body
	}
	if b, err := c.edit.Inject(nil, rank); err == nil { // cannot fail: the body was validated
		return b
	}
	return c.body
}

// rankOf is wk's data-parallel rank, or -1 for a whole server.
func rankOf(wk *worker.Worker) int {
	if rank, ok := wk.DPRank(); ok {
		return rank
	}
	return -1
}
