package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sgl-project/sglang-router-go/go/workload"
)

// Arrival processes of a replay.
const (
	ArrivalPoisson = "poisson" // exponential gaps: independent users
	ArrivalUniform = "uniform" // a fixed interval
)

// replay is an open-loop replay of a workload against one or more base
// URLs: requests are released on a schedule fixed in advance, whatever the
// answers' speed, so a slow system sees a queue grow as it would in
// production. A request also waits for the request it follows
// (workload.Request.After) and for a place under the concurrency cap.
//
// With several base URLs (router replicas behind a Service) each request
// goes to one drawn at random, as a Service's load balancing would; the
// draws come from seed, so a replay is reproducible.
type replay struct {
	client   *http.Client
	baseURLs []string
	seed     uint64
	reqs     []workload.Request
	offsets  []time.Duration // wall-clock release time of each request
	maxConc  int
	onDone   func() // called after each request, from its goroutine
	convs    *conversations
}

// sample is one request's outcome, in wall time.
type sample struct {
	ttft, e2e time.Duration
	err       error
}

// schedule returns the wall-clock release offsets of n requests offered at
// rate per simulated second, scaled by timeScale (0: all at once).
func schedule(n int, rate, timeScale float64, arrival string, seed uint64) []time.Duration {
	out := make([]time.Duration, n)
	if timeScale <= 0 || rate <= 0 {
		return out
	}
	rng := rand.New(rand.NewPCG(seed, 0xa11))
	t := 0.0
	for i := range out {
		out[i] = time.Duration(t * timeScale * float64(time.Second))
		gap := 1 / rate
		if arrival != ArrivalUniform {
			gap = rng.ExpFloat64() / rate
		}
		t += gap
	}
	return out
}

// run sends every request and returns the samples by request index and the
// wall time from the first release to the last completion.
func (rp *replay) run(ctx context.Context) ([]sample, time.Duration) {
	samples := make([]sample, len(rp.reqs))
	done := make([]chan struct{}, len(rp.reqs))
	for i := range done {
		done[i] = make(chan struct{})
	}
	rp.convs = newConversations()
	sem := make(chan struct{}, max(rp.maxConc, 1))
	var wg sync.WaitGroup
	rng := rand.New(rand.NewPCG(rp.seed, 0x5e1))
	start := time.Now()
	for i, r := range rp.reqs {
		base := rp.baseURLs[rng.IntN(len(rp.baseURLs))]
		if !sleepUntil(ctx, start.Add(rp.offsets[i])) {
			samples[i].err = ctx.Err()
			close(done[i])
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done[i])
			if r.After >= 0 {
				<-done[r.After] // released even if it failed
			}
			sem <- struct{}{}
			samples[i] = rp.send(ctx, base, r)
			<-sem
			if rp.onDone != nil {
				rp.onDone()
			}
		}()
	}
	wg.Wait()
	return samples, time.Since(start)
}

// send posts one streamed request to base; the time to first token is the arrival
// of the first SSE data event, and the request succeeds when the stream
// ends with [DONE].
func (rp *replay) send(ctx context.Context, base string, r workload.Request) sample {
	t0 := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+r.Path, bytes.NewReader(rp.convs.body(r)))
	if err != nil {
		return sample{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := rp.client.Do(req)
	if err != nil {
		return sample{err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return sample{err: fmt.Errorf("%s: status %d", r.Path, resp.StatusCode)}
	}
	s := sample{}
	var answer strings.Builder
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		data, ok := bytes.CutPrefix(sc.Bytes(), []byte("data:"))
		if !ok {
			continue
		}
		if s.ttft == 0 {
			s.ttft = time.Since(t0)
		}
		if string(bytes.TrimSpace(data)) == "[DONE]" {
			s.e2e = time.Since(t0)
			if r.Turn != nil {
				rp.convs.answered(r.Turn, answer.String())
			}
			return s
		}
		if r.Turn != nil {
			answer.WriteString(chunkText(bytes.TrimSpace(data)))
		}
	}
	if err := sc.Err(); err != nil {
		return sample{err: err}
	}
	return sample{err: fmt.Errorf("%s: stream ended without [DONE]", r.Path)}
}

// sleepUntil waits for t; false if ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// newClient returns the load generator's HTTP/1.1 client, with a keep-alive
// pool as large as the concurrency cap.
func newClient(maxConc int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		MaxIdleConns:        maxConc,
		MaxIdleConnsPerHost: maxConc,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}}
}
