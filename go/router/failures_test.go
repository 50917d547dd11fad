package router

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sgl-project/sglang-router-go/go/worker"
)

var oneStrike = worker.BreakerConfig{FailureThreshold: 1, SuccessThreshold: 1, OpenFor: time.Hour}

// clientError decodes an OpenAI-style error body.
func clientError(t *testing.T, body string) errorBody {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Message == "" {
		t.Fatalf("not an OpenAI-style error: %q", body)
	}
	return e
}

// namesNoWorker fails if text shows any worker's URL or address.
func namesNoWorker(t *testing.T, text string, pools ...*Pool) {
	t.Helper()
	for _, p := range pools {
		for _, w := range p.Registry.Snapshot() {
			u, _ := url.Parse(w.URL())
			if strings.Contains(text, u.Host) || strings.Contains(text, u.Port()) {
				t.Errorf("client-facing text names worker %s: %s", w.URL(), text)
			}
		}
	}
	for _, internal := range []string{"dial", "connect", "refused", "EOF", "context"} {
		if strings.Contains(text, internal) {
			t.Errorf("client-facing text shows internal error text %q: %s", internal, text)
		}
	}
}

// The case: three hung workers, a breaker that opens on the first
// failure, a short request timeout. The request ends in 504 after one
// attempt (the deadline is checked before any retry) and no circuit opens.
func TestTimedOutRequestIs504AndChargesNoWorker(t *testing.T) {
	opts := testOptions()
	opts.RequestTimeout = 200 * time.Millisecond
	f := newFixture(t, opts, "w0", "w1", "w2")
	useBreakers(t, oneStrike, f.pool)
	rec, _ := f.observe()
	for _, w := range f.workers {
		w.Hang(true)
	}
	for i := range 2 {
		resp, body := f.do("POST", "/generate", `{"text":"a"}`)
		e := clientError(t, body)
		if resp.StatusCode != 504 || e.Error.Type != "timeout" || !strings.Contains(e.Error.Message, resp.Header.Get("X-Request-Id")) {
			t.Fatalf("request %d: %d %s, want 504 naming the request id", i, resp.StatusCode, body)
		}
		namesNoWorker(t, body, f.pool)
	}
	now := time.Now()
	for _, w := range f.pool.Registry.Snapshot() {
		if w.CircuitState(now) != worker.CircuitClosed {
			t.Errorf("%s: circuit opened by the router's own deadline", w.URL())
		}
	}
	if n := f.workers[1].Count("/generate") + f.workers[2].Count("/generate"); n != 0 {
		t.Errorf("the expired request was tried on %d more workers", n)
	}
	waitFor(t, "in-flight back to 0", func() bool { return inFlight(f.pool) == 0 })
	if errs, _, _ := rec.snapshot(); !slices.Equal(errs, []string{"/generate timeout", "/generate timeout"}) {
		t.Errorf("recorded errors %v", errs)
	}
}

func TestDeadlineIsCheckedBeforeEveryRetry(t *testing.T) {
	opts := testOptions()
	opts.RequestTimeout = 200 * time.Millisecond
	opts.Retry = RetryPolicy{MaxRetries: 3, Initial: time.Minute, Max: time.Minute} // the deadline ends the backoff
	f := newFixture(t, opts, "bad", "good")
	rec, _ := f.observe()
	f.workers[0].FailWith(503)
	resp, body := f.do("POST", "/generate", `{"text":"a"}`)
	if resp.StatusCode != 504 {
		t.Fatalf("got %d %s, want 504", resp.StatusCode, body)
	}
	if n := f.workers[1].Count("/generate"); n != 0 {
		t.Errorf("retried after the deadline: the good worker got %d requests", n)
	}
	if n := rec.retryCount(); n != 0 {
		t.Errorf("%d retries counted, none was made", n)
	}
}

func TestClientThatLeftIs499WithItsOwnLabel(t *testing.T) {
	f := newFixture(t, testOptions(), "w0")
	useBreakers(t, oneStrike, f.pool)
	rec, _ := f.observe()
	f.workers[0].Hang(true)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", f.srv.URL+"/generate", strings.NewReader(`{"text":"a"}`))
	go func() {
		waitFor(t, "the request reached the worker", func() bool { return f.workers[0].Count("/generate") == 1 })
		cancel()
	}()
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("expected the request to be cancelled")
	}
	waitFor(t, "the request recorded", func() bool { return rec.requestCount() == 1 })
	if errs, _, _ := rec.snapshot(); !slices.Equal(errs, []string{"/generate client_disconnected"}) {
		t.Errorf("recorded errors %v", errs)
	}
	if f.worker(0).CircuitState(time.Now()) != worker.CircuitClosed || f.worker(0).Load() != 0 {
		t.Error("a client that left was charged to the worker, or its in-flight count leaked")
	}
}

// A request whose client leaves (or whose router stops) while it waits for
// a slot is not an internal error. (Go's server notices a departed client
// only once the request body was read, which happens after the slot: so
// this is checked on the limiter itself.)
func TestLeavingTheQueueIsNotAnInternalError(t *testing.T) {
	l := newLimiter(Options{MaxConcurrent: 1, QueueSize: 1, QueueTimeout: time.Minute})
	release, err := l.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	left, leave := context.WithCancel(context.Background())
	leave()
	stopping, stop := context.WithCancelCause(context.Background())
	stop(ErrShutdown)
	for ctx, want := range map[context.Context]int{left: statusClientGone, stopping: http.StatusServiceUnavailable} {
		if _, err := l.acquire(ctx); statusFor(err) != want {
			t.Errorf("acquire: %v maps to %d, want %d", err, statusFor(err), want)
		}
	}
}

func TestErrorBodiesNameNoWorkerButTheLogDoes(t *testing.T) {
	f := newFixture(t, testOptions(), "w0", "w1")
	_, logs := f.observe()
	for _, w := range f.workers {
		w.Close()
	}
	resp, body := f.do("POST", "/generate", `{"text":"a"}`, "X-Request-Id", "req-42")
	e := clientError(t, body)
	if resp.StatusCode != 502 || e.Error.Type != "upstream_error" || !strings.Contains(e.Error.Message, "req-42") {
		t.Fatalf("got %d %s", resp.StatusCode, body)
	}
	namesNoWorker(t, body, f.pool)
	entries := logs.FilterMessage("request failed").FilterField(zapString("request_id", "req-42")).All()
	if len(entries) != 1 || entries[0].ContextMap()["worker"] == nil || entries[0].ContextMap()["error"] == nil {
		t.Fatalf("the log lacks the failure's worker and cause: %v", logs.All())
	}
	if inFlight(f.pool) != 0 {
		t.Error("in-flight count leaked")
	}
}

func TestCutStreamEndsWithAnErrorEventThenAborts(t *testing.T) {
	f := newFixture(t, testOptions(), "w0")
	useBreakers(t, oneStrike, f.pool)
	rec, _ := f.observe()
	f.workers[0].StreamEvents.Store(5)
	f.workers[0].BreakAfter.Store(2)
	resp, s := readStream(t, f.srv.URL+"/v1/chat/completions", `{"messages":[{"role":"user","content":"hi"}],"stream":true}`)
	if resp.StatusCode != 200 || len(s.events) != 3 {
		t.Fatalf("got %d, events %q", resp.StatusCode, s.events)
	}
	e := clientError(t, s.events[2])
	if e.Error.Type != "upstream_error" || e.Error.Code != 502 || !strings.Contains(e.Error.Message, resp.Header.Get("X-Request-Id")) {
		t.Errorf("final event %s", s.events[2])
	}
	namesNoWorker(t, s.events[2], f.pool)
	if s.end == nil {
		t.Error("the cut stream ended like a complete one; the connection must be aborted")
	}
	waitFor(t, "in-flight back to 0", func() bool { return inFlight(f.pool) == 0 })
	if f.worker(0).CircuitState(time.Now()) != worker.CircuitOpen {
		t.Error("the worker that broke its stream was not charged")
	}
	if errs, _, _ := rec.snapshot(); !slices.Equal(errs, []string{"/v1/chat/completions upstream_error"}) {
		t.Errorf("recorded errors %v", errs)
	}
}

func TestCutPlainAnswerAbortsTheConnection(t *testing.T) {
	f := newFixture(t, testOptions(), "w0")
	f.workers[0].BreakAfter.Store(1)
	resp, err := http.Post(f.srv.URL+"/generate", "application/json", strings.NewReader(`{"text":"a"}`))
	if err == nil { // the status line may have left before the body broke
		defer resp.Body.Close()
		_, err = io.ReadAll(resp.Body)
	}
	if err == nil {
		t.Fatal("the client read a cut answer as a complete one")
	}
	waitFor(t, "in-flight back to 0", func() bool { return inFlight(f.pool) == 0 })
}
