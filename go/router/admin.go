package router

import (
	"net/http"
	"strings"

	"go.uber.org/zap"
)

func liveness(w http.ResponseWriter, _ *http.Request, _ string) int { return plainOK(w, "OK") }

// health answers from the health checker's cached verdicts: 200 when no
// registered worker is unhealthy, else 503 naming the unhealthy ones. An
// empty pool is healthy, as in v0.1.6 (a router started for discovery or
// before /add_worker); /readiness says whether it can serve.
func (rt *Router) health(w http.ResponseWriter, _ *http.Request, _ string) int {
	var unhealthy []string
	for _, p := range rt.pools() {
		for _, wk := range p.Registry.Snapshot() {
			if !wk.Healthy() {
				unhealthy = append(unhealthy, wk.URL())
			}
		}
	}
	if len(unhealthy) > 0 {
		return plainText(w, http.StatusServiceUnavailable, "Unhealthy servers: "+strings.Join(unhealthy, ", "))
	}
	return plainText(w, http.StatusOK, "All servers healthy")
}

// readiness is 200 when the router can serve a request now: a healthy
// worker in every pool.
func (rt *Router) readiness(w http.ResponseWriter, _ *http.Request, _ string) int {
	body := map[string]any{}
	ready, healthy, total := true, 0, 0
	for _, p := range rt.pools() {
		h := len(p.Registry.Healthy())
		n := len(p.Registry.Snapshot())
		healthy, total = healthy+h, total+n
		ready = ready && h > 0
		if rt.PD() {
			body["healthy_"+p.Role.String()+"_workers"] = h
			body["total_"+p.Role.String()+"_workers"] = n
		}
	}
	body["healthy_workers"], body["total_workers"] = healthy, total
	status := http.StatusOK
	body["status"] = "ready"
	if !ready {
		status, body["status"] = http.StatusServiceUnavailable, "not ready"
	}
	writeJSON(w, status, body)
	return status
}

// healthGenerate forwards /health_generate to one available worker of each
// pool (prefill and decode in PD mode); 200 only if all answered 2xx.
func (rt *Router) healthGenerate(w http.ResponseWriter, r *http.Request, id string) int {
	if !rt.PD() {
		return rt.forwardInfo("/health_generate", rt.regular)(w, r, id)
	}
	n, err := hops(r)
	if err != nil {
		return writeError(w, err)
	}
	for _, p := range rt.pools() {
		wk := p.anyAvailable("", nil)
		if wk == nil {
			return writeErrorStatus(w, http.StatusServiceUnavailable, "no healthy "+p.Role.String()+" worker")
		}
		if err := rt.probe(r.Context(), n, wk.BaseURL()+"/health_generate"); err != nil {
			rt.log.Warn("/health_generate failed", zap.String("request_id", id), zap.String("worker", wk.URL()), zap.Error(err))
			return writeErrorStatus(w, http.StatusServiceUnavailable, "a "+p.Role.String()+" worker failed /health_generate (request id "+id+")")
		}
	}
	w.WriteHeader(http.StatusOK)
	return http.StatusOK
}

// listWorkers: {"urls": [...]} in regular mode; in PD mode also the pools
// apart, and "urls" lists prefill then decode.
func (rt *Router) listWorkers(w http.ResponseWriter, _ *http.Request, _ string) int {
	writeJSON(w, http.StatusOK, rt.ListWorkers())
	return http.StatusOK
}

// ListWorkers is the body of /list_workers (also used by the C API):
// "urls" (and in PD mode one list per role) as the original; "stalled"
// lists the workers stall detection holds out of rotation, and is present
// only when there are some.
func (rt *Router) ListWorkers() map[string][]string {
	out := map[string][]string{}
	urls := []string{}
	var stalled []string
	for _, p := range rt.pools() {
		list := []string{}
		for _, wk := range p.Registry.Snapshot() {
			list = append(list, wk.URL())
			if wk.Stalled() {
				stalled = append(stalled, wk.URL())
			}
		}
		if rt.PD() {
			out[p.Role.String()] = list
		}
		urls = append(urls, list...)
	}
	out["urls"] = urls
	if len(stalled) > 0 {
		out["stalled"] = stalled
	}
	return out
}

func plainOK(w http.ResponseWriter, msg string) int { return plainText(w, http.StatusOK, msg) }

func plainText(w http.ResponseWriter, status int, msg string) int {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg))
	return status
}
