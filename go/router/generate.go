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
		info, edit, err := reqbody.ParseEdit(kind, body, rt.textNeeded)
		if err != nil {
			return writeError(w, fmt.Errorf("%w: %v", ErrBadRequest, err))
		}
		c := &call{w: w, r: r, id: id, path: path, body: body, edit: edit, hops: n, start: start}
		if rt.PD() {
			return rt.forwardPD(c, info)
		}
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
