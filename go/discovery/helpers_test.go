package discovery

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/sgl-project/sglang-router-go/go/worker"
)

// fakeSink records what discovery does to it, with times, and behaves like
// the router: an existing URL is refused, an unknown one cannot be removed.
type fakeSink struct {
	mu      sync.Mutex // guards the fields below
	workers map[string]worker.Spec
	events  []sinkEvent
}

type sinkEvent struct {
	at  time.Time
	add bool
	url string
}

func newSink(static ...string) *fakeSink {
	s := &fakeSink{workers: map[string]worker.Spec{}}
	for _, u := range static {
		s.workers[u] = worker.Spec{URL: u}
	}
	return s
}

func (s *fakeSink) AddWorker(_ context.Context, req worker.Spec, how worker.Admission) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if how != worker.Vouched {
		return fmt.Errorf("%w: discovery must vouch for the pods it adds", worker.ErrInvalidSpec)
	}
	if _, ok := s.workers[req.URL]; ok {
		return fmt.Errorf("%w: %s", worker.ErrExists, req.URL)
	}
	s.workers[req.URL] = req
	s.events = append(s.events, sinkEvent{time.Now(), true, req.URL})
	return nil
}

func (s *fakeSink) RemoveWorker(url string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.workers[url]; !ok {
		return fmt.Errorf("%w: %s", worker.ErrNotFound, url)
	}
	delete(s.workers, url)
	s.events = append(s.events, sinkEvent{time.Now(), false, url})
	return nil
}

// list describes the workers as sorted "role url[ port]" strings.
func (s *fakeSink) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.workers))
	for _, r := range s.workers {
		d := r.Role.String() + " " + r.URL
		if r.BootstrapPort != nil {
			d += fmt.Sprintf(" %d", *r.BootstrapPort)
		}
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// eventAt is when url was last added (add) or removed, or false.
func (s *fakeSink) eventAt(url string, add bool) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.events) - 1; i >= 0; i-- {
		if e := s.events[i]; e.url == url && e.add == add {
			return e.at, true
		}
	}
	return time.Time{}, false
}

// counter is a Recorder that counts.
type counter struct{ updates, added, removed atomic.Int64 }

func (c *counter) RecordDiscoveryUpdate()  { c.updates.Add(1) }
func (c *counter) RecordDiscoveryAdded()   { c.added.Add(1) }
func (c *counter) RecordDiscoveryRemoved() { c.removed.Add(1) }

// observed is a logger whose entries a test can read.
func observed() (*zap.Logger, *observer.ObservedLogs) {
	core, logs := observer.New(zapcore.DebugLevel)
	return zap.New(core), logs
}

// warnings lists the messages logged at warn level or above.
func warnings(logs *observer.ObservedLogs) []string {
	var out []string
	for _, e := range logs.All() {
		if e.Level >= zapcore.WarnLevel {
			out = append(out, e.Message)
		}
	}
	return out
}

// countWarnings counts warnings (or worse) containing snippet.
func countWarnings(logs *observer.ObservedLogs, snippet string) int {
	n := 0
	for _, w := range warnings(logs) {
		if strings.Contains(w, snippet) {
			n++
		}
	}
	return n
}

// eventually waits until cond holds, failing with what after timeout.
func eventually(t *testing.T, timeout time.Duration, what func() string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s: %s", timeout, what())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// waitWorkers waits until the sink holds exactly want (sorted "role url[ port]").
func waitWorkers(t *testing.T, s *fakeSink, timeout time.Duration, want ...string) {
	t.Helper()
	sort.Strings(want)
	eventually(t, timeout, func() string { return fmt.Sprintf("sink has %q, want %q", s.list(), want) },
		func() bool { return equal(s.list(), want) })
}

// run starts d.Run and returns a function that stops it and waits.
func run(d *Discovery) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// spec returns the spec the sink holds for url (zero when absent).
func (s *fakeSink) spec(url string) worker.Spec {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.workers[url]
}
