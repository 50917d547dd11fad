package router

import (
	"fmt"
	"net/http"
	"time"

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
		body, reserved, err := rt.readBody(w, r)
		defer rt.bodies.give(reserved)
		if err != nil {
			return writeError(w, err)
		}
		info, edit, err := rt.parse(kind, body)
		if err != nil {
			return writeError(w, fmt.Errorf("%w: %v", ErrBadRequest, err))
		}
		c := &call{w: w, r: r, id: id, path: path, body: body, edit: edit, hops: n, start: start}
		if rt.PD() {
			return rt.forwardPD(c, info)
		}
		defer releaseBody(body) // forward is done with it when it returns
		pool := rt.regular
		status := rt.forward(c, func(tried []*worker.Worker) *worker.Worker {
			wk := pool.pick(info.Text, tried)
			if wk != nil {
				rt.rec.RecordPolicyDecision(pool.Policy.Name(), wk.URL())
			}
			return wk
		})
		if path == "/generate" {
			rt.rec.RecordGenerate(time.Since(start))
		}
		return status
	}
}

// unscannedAbove is the body size above which a regular router whose
// policy ignores text does not look at the body at all: it needs nothing
// from it, and scanning a 400 KB prompt would cost more than forwarding
// it. Such a body, if malformed, gets the worker's 4xx instead of the
// router's 400; smaller ones are still checked here. (A data-parallel
// rank is then set by a scan of its own; see bodyFor.)
const unscannedAbove = 16 << 10

// parse reads what routing needs from body, and the Edit that sets the
// router's fields in it without scanning it again. In regular mode the
// text may alias body: it is used only to pick, while body is alive.
func (rt *Router) parse(kind reqbody.Route, body []byte) (reqbody.Info, reqbody.Edit, error) {
	if rt.PD() {
		return reqbody.ParseEdit(kind, body, rt.textNeeded)
	}
	if !rt.textNeeded && len(body) > unscannedAbove {
		return reqbody.Info{}, reqbody.Edit{}, nil
	}
	return reqbody.ParseEditShared(kind, body, rt.textNeeded)
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
