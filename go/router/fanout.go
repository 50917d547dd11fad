package router

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/sgl-project/sglang-router-go/go/proxy"
	"github.com/sgl-project/sglang-router-go/go/worker"
)

// eachWorker runs f on every worker of every pool concurrently and returns
// the results by pool role.
func eachWorker[T any](rt *Router, f func(*worker.Worker) T) map[worker.Role][]T {
	var all []*worker.Worker
	ends := make([]int, len(rt.pools()))
	for i, p := range rt.pools() {
		all = append(all, p.Registry.Snapshot()...)
		ends[i] = len(all)
	}
	res := eachOf(all, f)
	out := make(map[worker.Role][]T, len(ends))
	start := 0
	for i, p := range rt.pools() {
		out[p.Role] = res[start:ends[i]:ends[i]]
		start = ends[i]
	}
	return out
}

// eachOf runs f on every worker of ws concurrently and returns the results
// in order.
func eachOf[T any](ws []*worker.Worker, f func(*worker.Worker) T) []T {
	res := make([]T, len(ws))
	var wg sync.WaitGroup
	for i, wk := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = f(wk)
		}()
	}
	wg.Wait()
	return res
}

// flushCache POSTs /flush_cache to every worker at once: 200 if all
// succeeded, else 500 naming the failures.
func (rt *Router) flushCache(w http.ResponseWriter, r *http.Request, _ string) int {
	n, err := hops(r)
	if err != nil {
		return writeError(w, err)
	}
	results := eachWorker(rt, func(wk *worker.Worker) string {
		if laterRank(wk) {
			return "" // rank 0 flushes the server: SGLang flushes every rank
		}
		return rt.post(r.Context(), n, wk, "/flush_cache", nil)
	})
	var failed []string
	for _, role := range []worker.Role{worker.Regular, worker.Prefill, worker.Decode} {
		failed = appendFailures(failed, results[role])
	}
	if len(failed) > 0 {
		return writeErrorStatus(w, http.StatusInternalServerError, "flush_cache failed on: "+strings.Join(failed, "; "))
	}
	return plainOK(w, "Cache flushed on all servers")
}

// laterRank reports whether wk is a data-parallel rank other than 0: a
// call to its server's per-server state is made once, through rank 0.
func laterRank(wk *worker.Worker) bool {
	rank, ok := wk.DPRank()
	return ok && rank > 0
}

// post POSTs body to path on wk's server (a fan-out call) and returns ""
// on a 2xx answer, else what went wrong, naming the worker.
func (rt *Router) post(ctx context.Context, hops int, wk *worker.Worker, path string, body []byte) string {
	resp, err := rt.adminCall(ctx, hops, http.MethodPost, wk.BaseURL()+path, body)
	if err != nil {
		return wk.URL() + ": " + err.Error()
	}
	proxy.Drain(resp)
	if resp.StatusCode/100 != 2 {
		return wk.URL() + ": " + resp.Status
	}
	return ""
}

// appendFailures appends the non-empty results of post to failed.
func appendFailures(failed, results []string) []string {
	for _, f := range results {
		if f != "" {
			failed = append(failed, f)
		}
	}
	return failed
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

// adminCall sends a request (a JSON body, or none when body is nil) to a
// worker with the health timeout and workerHeader(hops).
func (rt *Router) adminCall(ctx context.Context, hops int, method, url string, body []byte) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, rt.opts.HealthTimeout)
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		cancel()
		return nil, err
	}
	for k, v := range rt.workerHeader(hops) {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
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
