package worker

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// healthCounter turns a run of check results into a verdict with hysteresis.
type healthCounter struct {
	mu         sync.Mutex // guards the fields below
	fails, oks int
	everUp     bool
}

// RecordHealth applies one health-check result and reports whether the
// verdict changed. A worker that has never been healthy turns healthy on its
// first success (startup should not wait for a streak); afterwards it takes
// failThreshold consecutive failures to go down and okThreshold successes
// to come back.
func (w *Worker) RecordHealth(ok bool, failThreshold, okThreshold int) (changed bool) {
	h := &w.healthRuns
	h.mu.Lock()
	defer h.mu.Unlock()
	was := w.healthy.Load()
	if ok {
		h.fails = 0
		h.oks++
		if !was && (!h.everUp || h.oks >= okThreshold) {
			h.everUp = true
			w.healthy.Store(true)
			return true
		}
		return false
	}
	h.oks = 0
	h.fails++
	if was && h.fails >= failThreshold {
		w.healthy.Store(false)
		return true
	}
	return false
}

// Checker polls GET {url}{Endpoint} on every worker of its registries.
type Checker struct {
	Client           *http.Client
	Endpoint         string // path of the health check; "" means /health
	Interval         time.Duration
	Timeout          time.Duration
	FailureThreshold int
	SuccessThreshold int
	// OnChange is called (from the checker's goroutines) when a verdict flips.
	OnChange func(w *Worker, healthy bool)
	// OnPass, when set, is called (from the checker's goroutines) after
	// each passing probe of a server some of whose workers (its ranks, or
	// the whole server) have a model to learn, before the verdict is
	// applied: the app learns the model there, so a worker turns healthy
	// with its model known, and a failed attempt is retried every interval.
	OnPass func(ctx context.Context, ws []*Worker)
}

// Run checks at once, then every Interval, until ctx is done.
func (c *Checker) Run(ctx context.Context, regs ...*Registry) {
	t := time.NewTicker(c.Interval)
	defer t.Stop()
	for {
		c.CheckAll(ctx, regs...)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// CheckAll checks every server concurrently and returns when all are done.
// The data-parallel ranks of one server share its probe.
func (c *Checker) CheckAll(ctx context.Context, regs ...*Registry) {
	var wg sync.WaitGroup
	for _, reg := range regs {
		for _, ws := range byServer(reg.Snapshot()) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.checkServer(ctx, ws)
			}()
		}
	}
	wg.Wait()
}

// CheckOne runs one health check on w and applies its result.
func (c *Checker) CheckOne(ctx context.Context, w *Worker) bool {
	return c.checkServer(ctx, []*Worker{w})
}

// checkServer probes the server of ws (workers with one base URL) once and
// applies the result to each.
func (c *Checker) checkServer(ctx context.Context, ws []*Worker) bool {
	ok := Probe(ctx, c.Client, c.HealthURL(ws[0].base), c.Timeout)
	if ctx.Err() != nil {
		return ok // shutting down: a cancelled probe says nothing about the worker
	}
	if ok && c.OnPass != nil && modelToLearn(ws) {
		c.OnPass(ctx, ws)
	}
	now := time.Now()
	for _, w := range ws {
		w.breaker.healthChecked(ok, now)
		if w.RecordHealth(ok, c.FailureThreshold, c.SuccessThreshold) && c.OnChange != nil {
			c.OnChange(w, ok)
		}
	}
	return ok
}

// modelToLearn reports whether some worker of ws has a model to learn.
func modelToLearn(ws []*Worker) bool {
	for _, w := range ws {
		if w.ModelToLearn() {
			return true
		}
	}
	return false
}

// HealthURL is the address the checker probes for the worker at
// workerURL; adding a worker that must be healthy first probes the same.
func (c *Checker) HealthURL(workerURL string) string {
	if c.Endpoint == "" {
		return workerURL + "/health"
	}
	return workerURL + c.Endpoint
}

// Probe reports whether GET url answers 2xx within timeout.
func Probe(ctx context.Context, client *http.Client, url string, timeout time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode >= 200 && resp.StatusCode < 300
}
