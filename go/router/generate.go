package router

import (
	"fmt"
	"net/http"
	"time"

	"github.com/sgl-project/sglang-router-go/go/mono"
	"github.com/sgl-project/sglang-router-go/go/policy"
	"github.com/sgl-project/sglang-router-go/go/reqbody"
	"github.com/sgl-project/sglang-router-go/go/worker"
)

// bodyRoute returns the handler of a route that carries a JSON body
// (KindGenerate, KindModel, KindLoad): read, check, resolve the model,
// pick, forward.
func (rt *Router) bodyRoute(s RouteSpec) handler {
	return func(w http.ResponseWriter, r *http.Request, id string) int {
		start := mono.Now()
		n, body, reserved, err := rt.readRequest(w, r)
		defer rt.bodies.give(reserved)
		if err != nil {
			return writeError(w, err)
		}
		if !rt.PD() {
			defer releaseBody(body) // after every other use: deferred first, runs last
		}
		info, edit, err := rt.parse(s, body)
		if err != nil {
			return writeError(w, fmt.Errorf("%w: %v", ErrBadRequest, err))
		}
		model, err := rt.resolveModel(info.Model)
		if err != nil {
			return writeModelNotFound(w, info.Model)
		}
		c := &call{w: w, r: r, id: id, path: s.Path, body: body, edit: edit, hops: n, start: start, model: model, rid: info.RID, stream: info.Stream}
		rt.planAnswer(c, s, info)
		defer rt.recordModel(c)
		if c.rid != "" {
			defer rt.rids.drop(c)
		}
		if rt.PD() && s.Kind == KindGenerate {
			return rt.forwardPD(c, info)
		}
		if rt.PD() && s.Decodes {
			return writeErrorStatus(w, http.StatusNotImplemented, s.Path+" is not served in PD mode: its request carries no bootstrap fields")
		}
		var sniff *idSniffer
		if s.Path == "/v1/responses" {
			sniff = &idSniffer{ResponseWriter: w}
			c.w = sniff
			if info.PreviousResponseID != "" {
				c.pinned = rt.responseWorker(info.PreviousResponseID)
			}
		}
		pool, byPolicy := rt.bodyPool(), s.Kind != KindLoad
		req := policy.Request{Text: info.Text, Session: rt.sessionKey(r, info)}
		status := rt.forward(c, func(tried []*worker.Worker) *worker.Worker {
			return rt.pickFor(c, pool, byPolicy, req, tried)
		})
		if sniff != nil && c.last != nil {
			if respID := responseID(sniff.head); respID != "" {
				rt.respIDs.put(respID, c.last.URL())
			}
		}
		if s.Path == "/generate" {
			rt.rec.RecordGenerate(time.Since(start))
		}
		return status
	}
}

// pickFor chooses a worker of c's model in pool, not in tried: c.pinned
// if it is available, else by the policy on text when byPolicy, else the
// least loaded. A request naming a rid is noted on the worker it goes to
// (see rids).
func (rt *Router) pickFor(c *call, pool *Pool, byPolicy bool, req policy.Request, tried []*worker.Worker) *worker.Worker {
	var wk *worker.Worker
	switch {
	case c.pinned != nil && !contains(tried, c.pinned) && c.pinned.Available(mono.Now()):
		wk = c.pinned
	case byPolicy:
		var why policy.Reason
		wk, why = pool.decide(c.model, req, tried)
		if wk != nil {
			rt.recordPick(c.w, pool, wk, why)
		}
	default:
		wk = pool.anyAvailable(c.model, tried)
	}
	if wk != nil && c.rid != "" {
		rt.rids.put(c, wk)
	}
	c.last = wk
	return wk
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

// bodyPool is the pool of single-worker body routes: the regular pool, or
// in PD mode the prefill pool.
func (rt *Router) bodyPool() *Pool {
	if rt.PD() {
		return rt.prefill
	}
	return rt.regular
}

// parse reads what routing needs from body, and for a generation route
// the Edit that sets the bootstrap fields (PD) or the data-parallel rank
// (dp_aware) without scanning the body again; other routes' bodies go as
// they are. Text is read only when some policy needs it.
func (rt *Router) parse(s RouteSpec, body []byte) (reqbody.Info, reqbody.Edit, error) {
	needText := rt.textNeeded && s.Kind != KindLoad
	if s.Kind == KindGenerate && rt.PD() {
		return reqbody.ParseEdit(s.Text, body, needText)
	}
	if s.Kind == KindGenerate { // the text is used to pick only, while body is alive: it may alias it
		return reqbody.ParseEditShared(s.Text, body, needText)
	}
	info, err := reqbody.Parse(s.Text, body, needText)
	return info, reqbody.Edit{}, err
}

// forwardInfo forwards an informational GET to one healthy worker of pool,
// retrying elsewhere like any request.
func (rt *Router) forwardInfo(path string, pool *Pool) handler {
	return rt.forwardInfoAs(path, "", pool)
}

// forwardInfoAs is forwardInfo with a metrics label other than path.
func (rt *Router) forwardInfoAs(path, label string, pool *Pool) handler {
	return func(w http.ResponseWriter, r *http.Request, id string) int {
		n, err := hops(r)
		if err != nil {
			return writeError(w, err)
		}
		c := &call{w: w, r: r, id: id, path: path, label: label, hops: n, start: mono.Now()}
		return rt.forward(c, func(tried []*worker.Worker) *worker.Worker {
			return pool.anyAvailable("", tried)
		})
	}
}
