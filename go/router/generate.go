package router

import (
	"fmt"
	"net/http"
	"time"

	"github.com/sgl-project/sglang-router-go/go/reqbody"
	"github.com/sgl-project/sglang-router-go/go/worker"
)

// bodyRoute returns the handler of a route that carries a JSON body
// (KindGenerate, KindModel, KindLoad): read, check, resolve the model,
// pick, forward.
func (rt *Router) bodyRoute(s RouteSpec) handler {
	return func(w http.ResponseWriter, r *http.Request, id string) int {
		start := time.Now()
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
		c := &call{w: w, r: r, id: id, path: s.Path, body: body, edit: edit, hops: n, start: start, model: model, rid: info.RID}
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
		status := rt.forward(c, func(tried []*worker.Worker) *worker.Worker {
			return rt.pickFor(c, pool, byPolicy, info.Text, tried)
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
func (rt *Router) pickFor(c *call, pool *Pool, byPolicy bool, text string, tried []*worker.Worker) *worker.Worker {
	var wk *worker.Worker
	switch {
	case c.pinned != nil && !contains(tried, c.pinned) && c.pinned.Available(time.Now()):
		wk = c.pinned
	case byPolicy:
		wk = pool.pick(c.model, text, tried)
		if wk != nil {
			rt.rec.RecordPolicyDecision(pool.Policy.Name(), wk.URL())
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
		c := &call{w: w, r: r, id: id, path: path, label: label, hops: n, start: time.Now()}
		return rt.forward(c, func(tried []*worker.Worker) *worker.Worker {
			return pool.anyAvailable("", tried)
		})
	}
}
