package router

import (
	"fmt"
	"net/http"
	"time"

	"github.com/sgl-project/sglang-router-go/go/policy"
	"github.com/sgl-project/sglang-router-go/go/reqbody"
	"github.com/sgl-project/sglang-router-go/go/worker"
)

// generation returns the handler of a generation route (/generate and the
// OpenAI routes): read, check, pick, forward.
func (rt *Router) generation(path string) handler {
	kind := routeKind(path)
	return func(w http.ResponseWriter, r *http.Request, id string) int {
		start := time.Now()
		n, err := hops(r)
		if err != nil {
			return writeError(w, err)
		}
		body, err := readBody(r, rt.opts.MaxPayloadSize)
		if err != nil {
			return writeError(w, err)
		}
		info, boot, err := rt.parse(kind, body)
		if err != nil {
			return writeError(w, fmt.Errorf("%w: %v", ErrBadRequest, err))
		}
		c := &call{w: w, r: r, id: id, path: path, body: body, hops: n, start: start}
		if rt.PD() {
			return rt.forwardPD(c, info, boot)
		}
		pool := rt.regular
		req := policy.Request{Text: info.Text, Session: rt.sessionKey(r, info)}
		status := rt.forward(c, func(tried []*worker.Worker) *worker.Worker {
			wk, why := pool.decide(req, tried)
			if wk != nil {
				rt.recordPick(w, pool, wk, why)
			}
			return wk
		})
		if path == "/generate" {
			rt.rec.RecordGenerate(time.Since(start))
		}
		return status
	}
}

// sessionKey is the request's session key: the session header's value
// when set (cut like the body's keys), else the body's (reqbody.Info).
func (rt *Router) sessionKey(r *http.Request, info reqbody.Info) string {
	if rt.opts.SessionHeader != "" {
		if v := r.Header.Get(rt.opts.SessionHeader); v != "" {
			return v[:min(len(v), reqbody.MaxSessionKey)]
		}
	}
	return info.Session
}

// recordPick counts a pick of wk from pool and, with decision headers on,
// names the worker and the reason in the response (a later attempt's pick
// replaces them; they are sent with whichever answer reaches the client).
func (rt *Router) recordPick(w http.ResponseWriter, pool *Pool, wk *worker.Worker, why policy.Reason) {
	rt.rec.RecordPolicyDecision(pool.Policy.Name(), wk.URL())
	if why != policy.ReasonNone {
		rt.rec.RecordRoutingDecision(why.String())
	}
	if rt.opts.DecisionHeaders {
		h := w.Header()
		h.Set(HeaderWorker, wk.URL())
		if why != policy.ReasonNone {
			h.Set(HeaderReason, why.String())
		} else {
			h.Set(HeaderReason, pool.Policy.Name())
		}
	}
}

// The decision headers (Options.DecisionHeaders).
const (
	HeaderWorker = "X-Sglang-Router-Worker"
	HeaderReason = "X-Sglang-Router-Reason"
)

// parse reads what routing needs from body; in PD mode also what adds the
// bootstrap fields without scanning the body again.
func (rt *Router) parse(kind reqbody.Route, body []byte) (reqbody.Info, reqbody.Bootstrap, error) {
	if rt.PD() {
		return reqbody.ParsePD(kind, body, rt.textNeeded)
	}
	info, err := reqbody.Parse(kind, body, rt.textNeeded)
	return info, reqbody.Bootstrap{}, err
}

func routeKind(path string) reqbody.Route {
	switch path {
	case "/v1/chat/completions":
		return reqbody.ChatCompletions
	case "/v1/completions":
		return reqbody.Completions
	}
	return reqbody.Generate
}

// forwardInfo forwards an informational GET to one healthy worker of pool,
// retrying elsewhere like any request.
func (rt *Router) forwardInfo(path string, pool *Pool) handler {
	return func(w http.ResponseWriter, r *http.Request, id string) int {
		n, err := hops(r)
		if err != nil {
			return writeError(w, err)
		}
		c := &call{w: w, r: r, id: id, path: path, hops: n, start: time.Now()}
		return rt.forward(c, func(tried []*worker.Worker) *worker.Worker {
			return pool.anyAvailable(tried)
		})
	}
}
