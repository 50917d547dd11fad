package worker

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// FetchWorkerLoad returns w's own load from GET {base}/get_load (for a
// data-parallel rank, the rank's entry of its server's answer), or -1 on
// any failure. header is added to the request (e.g. Authorization).
func FetchWorkerLoad(ctx context.Context, client *http.Client, w *Worker, header http.Header, timeout time.Duration) int64 {
	data, ok := fetchLoadBody(ctx, client, w.base, header, timeout)
	if !ok {
		return -1
	}
	return ParseRankLoad(data, w.rank)
}

// fetchLoadBody returns the body of a 2xx answer of GET {url}/get_load.
func fetchLoadBody(ctx context.Context, client *http.Client, url string, header http.Header, timeout time.Duration) ([]byte, bool) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/get_load", nil)
	if err != nil {
		return nil, false
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, false
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return data, err == nil && resp.StatusCode/100 == 2
}

// ParseLoad reads a /get_load body; -1 if it holds no load figure. SGLang
// answers an object or, with data parallelism, a list of objects; the load
// is the sum of their "num_reqs" (or "load") fields.
func ParseLoad(data []byte) int64 { return ParseRankLoad(data, -1) }

// ParseRankLoad is ParseLoad for data-parallel rank rank (-1: the whole
// server): only the list entries whose "dp_rank" is rank count. An answer
// without per-rank entries gives the server's figure.
func ParseRankLoad(data []byte, rank int) int64 {
	load, _ := parseRankLoad(data, rank)
	return load
}

// parseRankLoad is ParseRankLoad that also returns how many of the
// requests wait for a place in the running batch: the sum of the entries'
// "num_waiting_reqs" (SGLang's, since mid-2025), 0 when they have none.
func parseRankLoad(data []byte, rank int) (load, waiting int64) {
	type entry struct {
		DPRank  *int   `json:"dp_rank"`
		NumReqs *int64 `json:"num_reqs"`
		Load    *int64 `json:"load"`
		Waiting int64  `json:"num_waiting_reqs"`
	}
	var list []entry
	if json.Unmarshal(data, &list) != nil {
		var one entry
		if json.Unmarshal(data, &one) != nil {
			return -1, 0
		}
		list = []entry{one}
	}
	if rank >= 0 && slices.ContainsFunc(list, func(e entry) bool { return e.DPRank != nil && *e.DPRank == rank }) {
		list = slices.DeleteFunc(list, func(e entry) bool { return e.DPRank == nil || *e.DPRank != rank })
	}
	total, found := int64(0), false
	for _, e := range list {
		switch {
		case e.NumReqs != nil:
			total, found = total+*e.NumReqs, true
		case e.Load != nil:
			total, found = total+*e.Load, true
		}
		waiting += max(e.Waiting, 0)
	}
	if !found {
		return -1, 0
	}
	return total, waiting
}

// PollLoads sets every worker's polled load from /get_load, concurrently:
// one request per server, its data-parallel ranks each taking their entry.
func PollLoads(ctx context.Context, client *http.Client, header http.Header, timeout time.Duration, regs ...*Registry) {
	var wg sync.WaitGroup
	for _, reg := range regs {
		for _, ws := range byServer(reg.Snapshot()) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				data, ok := fetchLoadBody(ctx, client, ws[0].base, header, timeout)
				for _, w := range ws {
					load, waiting := int64(-1), int64(0)
					if ok {
						load, waiting = parseRankLoad(data, w.rank)
					}
					w.SetPolled(load, waiting)
				}
			}()
		}
	}
	wg.Wait()
}
