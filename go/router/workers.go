package router

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/sgl-project/sglang-router-go/go/worker"
)

// addWorker serves POST /add_worker?url=U[&role=prefill|decode&bootstrap_port=N]:
// it answers once the worker's /health passed and it joined its pool.
func (rt *Router) addWorker(w http.ResponseWriter, r *http.Request, _ string) int {
	spec, err := parseAdd(r)
	if err == nil {
		err = rt.workers.AddWorker(r.Context(), spec, worker.WhenHealthy)
	}
	if err != nil {
		if r.Context().Err() != nil {
			return statusClientGone
		}
		return writeError(w, err)
	}
	return plainOK(w, "Successfully added worker: "+spec.URL)
}

// parseAdd reads the worker to add from the query.
func parseAdd(r *http.Request) (worker.Spec, error) {
	q := r.URL.Query()
	if q.Get("url") == "" {
		return worker.Spec{}, fmt.Errorf("%w: missing url query parameter: use /add_worker?url=http://host:port", worker.ErrInvalidSpec)
	}
	role, err := worker.ParseRole(q.Get("role"))
	if err != nil {
		return worker.Spec{}, err
	}
	var port *int
	if p := q.Get("bootstrap_port"); p != "" && p != "none" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return worker.Spec{}, fmt.Errorf("%w: Invalid bootstrap port: %s. Must be a number or 'none'", worker.ErrInvalidSpec, p[:min(len(p), 20)])
		}
		port = &n
	}
	return worker.ParseSpec(q.Get("url"), role, port)
}

// removeWorker serves POST /remove_worker?url=U.
func (rt *Router) removeWorker(w http.ResponseWriter, r *http.Request, _ string) int {
	raw := r.URL.Query().Get("url")
	if raw == "" {
		return writeError(w, fmt.Errorf("%w: missing url query parameter: use /remove_worker?url=http://host:port", worker.ErrInvalidSpec))
	}
	if err := rt.workers.RemoveWorker(raw); err != nil {
		return writeError(w, err)
	}
	url, _ := worker.NormalizeURL(raw) // removal succeeded, so it is valid
	return plainOK(w, "Successfully removed worker: "+url)
}

// workerErrorStatus maps the worker-management classes to statuses: 400
// for a request that cannot succeed as made (as the original: also when the worker is
// already present or never became healthy), 404 for an unknown worker, 503
// when too many adds are in flight. ok is false for other errors.
func workerErrorStatus(err error) (status int, ok bool) {
	switch {
	case errors.Is(err, worker.ErrNotFound):
		return http.StatusNotFound, true
	case errors.Is(err, worker.ErrBusy):
		return http.StatusServiceUnavailable, true
	case errors.Is(err, worker.ErrInvalidSpec), errors.Is(err, worker.ErrExists), errors.Is(err, worker.ErrNotReady):
		return http.StatusBadRequest, true
	}
	return 0, false
}
