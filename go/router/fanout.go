package router

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/sgl-project/sglang-router-go/go/worker"
)

// eachWorker runs f on every worker of every pool concurrently and returns
// the results in pool order.
func eachWorker[T any](rt *Router, f func(*worker.Worker) T) map[worker.Role][]T {
	out := map[worker.Role][]T{}
	var mu sync.Mutex // guards out
	var wg sync.WaitGroup
	for _, p := range rt.pools() {
		ws := p.Registry.Snapshot()
		res := make([]T, len(ws))
		for i, wk := range ws {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res[i] = f(wk)
			}()
		}
		mu.Lock()
		out[p.Role] = res
		mu.Unlock()
	}
	wg.Wait()
	return out
}

// flushCache POSTs /flush_cache to every worker at once: 200 if all
// succeeded, else 500 naming the failures.
func (rt *Router) flushCache(w http.ResponseWriter, r *http.Request, _ string) int {
	results := eachWorker(rt, func(wk *worker.Worker) string {
		resp, err := rt.adminCall(r.Context(), http.MethodPost, wk.URL()+"/flush_cache")
		if err != nil {
			return wk.URL() + ": " + err.Error()
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return wk.URL() + ": " + resp.Status
		}
		return ""
	})
	var failed []string
	for _, role := range []worker.Role{worker.Regular, worker.Prefill, worker.Decode} {
		for _, f := range results[role] {
			if f != "" {
				failed = append(failed, f)
			}
		}
	}
	if len(failed) > 0 {
		return writeErrorStatus(w, http.StatusInternalServerError, "flush_cache failed on: "+strings.Join(failed, "; "))
	}
	return plainOK(w, "Cache flushed on all servers")
}

// workerLoad is one entry of /get_loads.
type workerLoad struct {
	Worker string `json:"worker"`
	Load   int64  `json:"load"`
}

// getLoads asks every worker's /get_load at once; -1 marks a failure.
func (rt *Router) getLoads(w http.ResponseWriter, r *http.Request, _ string) int {
	results := eachWorker(rt, func(wk *worker.Worker) workerLoad {
		return workerLoad{Worker: wk.URL(), Load: rt.fetchLoad(r.Context(), wk)}
	})
	if !rt.PD() {
		writeJSON(w, http.StatusOK, map[string]any{"workers": nonNil(results[worker.Regular])})
		return http.StatusOK
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"prefill": nonNil(results[worker.Prefill]), "decode": nonNil(results[worker.Decode]),
	})
	return http.StatusOK
}

func nonNil(l []workerLoad) []workerLoad {
	if l == nil {
		return []workerLoad{}
	}
	return l
}

// fetchLoad returns a worker's own load from GET /get_load, -1 on failure.
func (rt *Router) fetchLoad(ctx context.Context, wk *worker.Worker) int64 {
	return worker.FetchLoad(ctx, rt.proxy.Client, wk.URL(), rt.authHeader(), rt.opts.HealthTimeout)
}

// authHeader carries the router's API key to workers, if one is set.
func (rt *Router) authHeader() http.Header {
	if rt.opts.APIKey == "" {
		return nil
	}
	return http.Header{"Authorization": {"Bearer " + rt.opts.APIKey}}
}

// adminCall sends a body-less request to a worker with the health timeout
// and the router's API key.
func (rt *Router) adminCall(ctx context.Context, method, url string) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, rt.opts.HealthTimeout)
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		cancel()
		return nil, err
	}
	for k, v := range rt.authHeader() {
		req.Header[k] = v
	}
	resp, err := rt.proxy.Client.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = cancelOnClose{resp.Body, cancel}
	return resp, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}
