package router

import (
	"net/http"
	"strings"

	"github.com/sgl-project/sglang-router-go/go/reqbody"
	"github.com/sgl-project/sglang-router-go/go/worker"
)

// abortRequest serves POST /abort_request: a body naming a rid the router
// dispatched (and still runs) goes to the workers running it (in PD mode
// both legs); any other body (abort_all, an unknown or finished rid) goes
// to every worker. The body is forwarded as is. 200 when every worker
// asked answered 2xx, else 500 naming the failures.
func (rt *Router) abortRequest(w http.ResponseWriter, r *http.Request, _ string) int {
	n, body, reserved, err := rt.readRequest(w, r)
	defer rt.bodies.give(reserved)
	if err != nil {
		return writeError(w, err)
	}
	info, err := reqbody.Parse(reqbody.Other, body, false)
	if err != nil {
		return writeError(w, err)
	}
	send := func(wk *worker.Worker) string { return rt.post(r.Context(), n, wk, "/abort_request", body) }
	var failed []string
	if ws := rt.rids.get(info.RID); info.RID != "" && ws != nil {
		failed = appendFailures(failed, eachOf(ws, send))
	} else {
		for _, res := range eachWorker(rt, func(wk *worker.Worker) string {
			if laterRank(wk) {
				return "" // one abort per server: it holds every rank's requests
			}
			return send(wk)
		}) {
			failed = appendFailures(failed, res)
		}
	}
	if len(failed) > 0 {
		return writeErrorStatus(w, http.StatusInternalServerError, "abort_request failed on: "+strings.Join(failed, "; "))
	}
	w.WriteHeader(http.StatusOK)
	return http.StatusOK
}
