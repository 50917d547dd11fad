package router

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/sgl-project/sglang-router-go/go/proxy"
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
	n, err := hops(r)
	if err != nil {
		return writeError(w, err)
	}
	results := eachWorker(rt, func(wk *worker.Worker) string {
		if rank, ok := wk.DPRank(); ok && rank > 0 {
			return "" // rank 0 flushes the server: SGLang flushes every rank
		}
		resp, err := rt.adminCall(r.Context(), n, http.MethodPost, wk.BaseURL()+"/flush_cache")
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
	n, err := hops(r)
	if err != nil {
		return writeError(w, err)
	}
	results := eachWorker(rt, func(wk *worker.Worker) workerLoad {
		return workerLoad{Worker: wk.URL(), Load: rt.fetchLoad(r.Context(), n, wk)}
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

// fetchLoad returns a worker's own load from GET /get_load, -1 on failure,
// for a request that went through hops routers.
func (rt *Router) fetchLoad(ctx context.Context, hops int, wk *worker.Worker) int64 {
	return worker.FetchWorkerLoad(ctx, rt.proxy.Client, wk, rt.workerHeader(hops), rt.opts.HealthTimeout)
}

// workerHeader is what the router's own calls to workers carry on behalf of
// a request that went through hops routers: the next hop count (so a loop
// through admin fan-outs ends too) and the router's API key, if one is set.
func (rt *Router) workerHeader(hops int) http.Header {
	h := http.Header{HopHeader: nextHop(hops)}
	if rt.opts.APIKey != "" {
		h["Authorization"] = []string{"Bearer " + rt.opts.APIKey}
	}
	return h
}

// probe GETs url with workerHeader(hops), within the request timeout: nil
// if it answered 2xx.
func (rt *Router) probe(ctx context.Context, hops int, url string) error {
	ctx, cancel := context.WithTimeout(ctx, rt.opts.RequestTimeout)
	defer cancel()
	resp, err := rt.proxy.Send(ctx, http.MethodGet, url, nil, nil, proxy.Fields(rt.workerHeader(hops)))
	if err != nil {
		return err
	}
	proxy.Drain(resp)
	if resp.StatusCode/100 != 2 {
		return statusError(resp.StatusCode)
	}
	return nil
}

// adminCall sends a body-less request to a worker with the health timeout
// and workerHeader(hops).
func (rt *Router) adminCall(ctx context.Context, hops int, method, url string) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, rt.opts.HealthTimeout)
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		cancel()
		return nil, err
	}
	for k, v := range rt.workerHeader(hops) {
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
