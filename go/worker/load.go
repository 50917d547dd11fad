package worker

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"
)

// FetchLoad returns a worker's own load from GET {url}/get_load, or -1 on
// any failure. header is added to the request (e.g. Authorization).
func FetchLoad(ctx context.Context, client *http.Client, url string, header http.Header, timeout time.Duration) int64 {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/get_load", nil)
	if err != nil {
		return -1
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode/100 != 2 {
		return -1
	}
	return ParseLoad(data)
}

// ParseLoad reads a /get_load body; -1 if it holds no load figure. SGLang
// answers an object or, with data parallelism, a list of objects; the load
// is the sum of their "num_reqs" (or "load") fields.
func ParseLoad(data []byte) int64 {
	type entry struct {
		NumReqs *int64 `json:"num_reqs"`
		Load    *int64 `json:"load"`
	}
	var list []entry
	if json.Unmarshal(data, &list) != nil {
		var one entry
		if json.Unmarshal(data, &one) != nil {
			return -1
		}
		list = []entry{one}
	}
	total, found := int64(0), false
	for _, e := range list {
		switch {
		case e.NumReqs != nil:
			total, found = total+*e.NumReqs, true
		case e.Load != nil:
			total, found = total+*e.Load, true
		}
	}
	if !found {
		return -1
	}
	return total
}

// PollLoads sets every worker's polled load from /get_load, concurrently.
func PollLoads(ctx context.Context, client *http.Client, header http.Header, timeout time.Duration, regs ...*Registry) {
	var wg sync.WaitGroup
	for _, reg := range regs {
		for _, w := range reg.Snapshot() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w.SetPolledLoad(FetchLoad(ctx, client, w.base, header, timeout))
			}()
		}
	}
	wg.Wait()
}
