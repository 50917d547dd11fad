package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Result is one load run.
type Result struct {
	Requests int
	Errors   int
	Elapsed  time.Duration
	P50, P99 time.Duration
}

// RPS is completed requests per second.
func (r Result) RPS() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

// Load is a closed-loop load: Concurrency clients each send one request
// after another for Duration; a request counts when its body was read whole.
type Load struct {
	Client      *http.Client
	URL         string
	Bodies      [][]byte // sent in turn
	Concurrency int
	Duration    time.Duration
	Warmup      int // requests per client before measuring
	// MinRequests, when > 0, extends the run past Duration until that many
	// requests finished (ok or not), so a check that the load ran does not
	// depend on how fast a busy machine is; ctx still bounds it.
	MinRequests int
	// Send, when set, replaces the POST of Bodies: it performs request n
	// and returns when its answer was read whole.
	Send func(ctx context.Context, n int) error
}

// Run executes the load and returns its latency distribution.
func (l Load) Run(ctx context.Context) Result {
	var mu sync.Mutex // guards lat and errs
	var lat []time.Duration
	errs := 0
	var wg sync.WaitGroup
	var done atomic.Int64 // measured requests finished, ok or not
	start := time.Now()
	stop := start.Add(l.Duration)
	for c := 0; c < l.Concurrency; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := c
			for i := 0; i < l.Warmup; i++ {
				n++
				_, _ = l.once(ctx, l.body(n))
			}
			local := make([]time.Duration, 0, 4096)
			bad := 0
			for (time.Now().Before(stop) || done.Load() < int64(l.MinRequests)) && ctx.Err() == nil {
				n++
				d, err := l.once(ctx, l.body(n))
				done.Add(1)
				if err != nil {
					bad++
					continue
				}
				local = append(local, d)
			}
			mu.Lock()
			lat = append(lat, local...)
			errs += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.Sort(lat)
	return Result{Requests: len(lat), Errors: errs, Elapsed: time.Since(start), P50: quantile(lat, 0.50), P99: quantile(lat, 0.99)}
}

// body is the n-th request's body (Bodies in turn; nil with Send).
func (l Load) body(n int) []byte {
	if len(l.Bodies) == 0 {
		return nil
	}
	return l.Bodies[n%len(l.Bodies)]
}

func (l Load) once(ctx context.Context, body []byte) (time.Duration, error) {
	t0 := time.Now()
	if l.Send != nil {
		err := l.Send(ctx, int(t0.UnixNano()))
		return time.Since(t0), err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := l.Client.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %d", resp.StatusCode)
	}
	return time.Since(t0), err
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}
