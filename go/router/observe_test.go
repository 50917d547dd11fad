package router

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/sgl-project/sglang-router-go/go/worker"
)

// recorder keeps what the router records that tests assert on. It is safe
// for concurrent use.
type recorder struct {
	nopRecorder

	mu       sync.Mutex // guards the fields below
	requests int
	errors   []string           // "route error_type"
	pdErrors []string           // error_type
	running  map[string][]int64 // every value of the running gauge, by worker
	counts   map[string]int     // "family worker" for the per-worker PD error families
	retries  int
	models   map[string]int // requests by model label
}

func newRecorder() *recorder {
	return &recorder{running: map[string][]int64{}, counts: map[string]int{}, models: map[string]int{}}
}

func (r *recorder) locked(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f()
}

func (r *recorder) RecordRequest(string, time.Duration) { r.locked(func() { r.requests++ }) }
func (r *recorder) RecordModelRequest(m string, _ time.Duration) {
	r.locked(func() { r.models[m]++ })
}
func (r *recorder) RecordRetry(string) { r.locked(func() { r.retries++ }) }
func (r *recorder) RecordError(route, errorType string) {
	r.locked(func() { r.errors = append(r.errors, route+" "+errorType) })
}
func (r *recorder) RecordPDError(errorType string) {
	r.locked(func() { r.pdErrors = append(r.pdErrors, errorType) })
}
func (r *recorder) SetRunning(w string, n int64) {
	r.locked(func() { r.running[w] = append(r.running[w], n) })
}
func (r *recorder) RecordPDPrefillError(w string) {
	r.locked(func() { r.counts["prefill_errors "+w]++ })
}
func (r *recorder) RecordPDDecodeError(w string) { r.locked(func() { r.counts["decode_errors "+w]++ }) }
func (r *recorder) RecordPDStreamError(w string) { r.locked(func() { r.counts["stream_errors "+w]++ }) }

// snapshot returns a copy of the recorded errors, PD errors and counts.
func (r *recorder) snapshot() (errors, pdErrors []string, counts map[string]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	counts = map[string]int{}
	for k, v := range r.counts {
		counts[k] = v
	}
	return append([]string(nil), r.errors...), append([]string(nil), r.pdErrors...), counts
}

func (r *recorder) gauge(w string) []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int64(nil), r.running[w]...)
}

func (r *recorder) retryCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.retries
}

func (r *recorder) requestCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests
}

// observe makes the fixture's router record into a recorder and log into
// an observer (debug level). Call it before the first request.
func (f *fixture) observe() (*recorder, *observer.ObservedLogs) {
	rec := newRecorder()
	core, logs := observer.New(zapcore.DebugLevel)
	f.rt.rec, f.rt.log = rec, zap.New(core)
	return rec, logs
}

// useBreakers replaces every worker of pools by an equal one with a
// circuit breaker (healthy, same order). Call it before the first request.
func useBreakers(t *testing.T, cfg worker.BreakerConfig, pools ...*Pool) {
	t.Helper()
	for _, p := range pools {
		for _, w := range p.Registry.Snapshot() {
			if _, err := p.Registry.Remove(w.URL()); err != nil {
				t.Fatal(err)
			}
			nw := worker.New(w.URL(), w.Role(), w.BootstrapPort()).WithBreaker(cfg)
			nw.SetHealthy(true)
			if err := p.Registry.Add(nw); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// streamed is what a client read of an event stream: its data lines, and
// how the body ended (nil for a clean end, else the read error).
type streamed struct {
	events []string
	end    error
}

// readStream posts body to url and reads the answer's data lines to the end.
func readStream(t *testing.T, url, body string) (*http.Response, streamed) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s streamed
	rd := bufio.NewReader(resp.Body)
	for {
		line, err := rd.ReadString('\n')
		if data, ok := strings.CutPrefix(strings.TrimRight(line, "\n"), "data: "); ok && err == nil {
			s.events = append(s.events, data)
		}
		if err != nil {
			if err != io.EOF {
				s.end = err
			}
			return resp, s
		}
	}
}

// inFlight sums the in-flight counts of every worker of pools.
func inFlight(pools ...*Pool) int64 {
	var n int64
	for _, p := range pools {
		for _, w := range p.Registry.Snapshot() {
			n += w.Load()
		}
	}
	return n
}

func zapString(key, value string) zap.Field { return zap.String(key, value) }
