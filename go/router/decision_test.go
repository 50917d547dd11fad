package router

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/sgl-project/sglang-router-go/go/policy"
)

// countingRecorder counts routing decisions by reason.
type countingRecorder struct {
	nopRecorder
	reasons chan string
}

func (r countingRecorder) RecordRoutingDecision(reason string) { r.reasons <- reason }

func TestDecisionHeadersNameWorkerAndReason(t *testing.T) {
	opts := testOptions()
	opts.DecisionHeaders = true
	f := newFixture(t, opts, "a", "b")
	resp, _ := f.do(http.MethodPost, "/generate", `{"text":"hi"}`)
	if got := resp.Header.Get(HeaderWorker); got != f.workers[0].URL {
		t.Errorf("%s = %q, want %q", HeaderWorker, got, f.workers[0].URL)
	}
	if got := resp.Header.Get(HeaderReason); got != "first" {
		t.Errorf("%s = %q, want the text-blind policy's name", HeaderReason, got)
	}
	f.workers[0].FailWith(http.StatusServiceUnavailable)
	resp, _ = f.do(http.MethodPost, "/generate", `{"text":"hi"}`)
	if resp.StatusCode != http.StatusOK || resp.Header.Get(HeaderWorker) != f.workers[1].URL || resp.Header.Get(HeaderReason) != "fallback" {
		t.Errorf("after a retry: %d, worker %q, reason %q; want 200 from %s, fallback", resp.StatusCode,
			resp.Header.Get(HeaderWorker), resp.Header.Get(HeaderReason), f.workers[1].URL)
	}
}

func TestDecisionHeadersOffByDefault(t *testing.T) {
	f := newFixture(t, testOptions(), "a")
	resp, _ := f.do(http.MethodPost, "/generate", `{"text":"hi"}`)
	if resp.Header.Get(HeaderWorker) != "" || resp.Header.Get(HeaderReason) != "" {
		t.Errorf("headers without the option: %v", resp.Header)
	}
}

// TestSessionsStickWhateverThePolicy: a session key from the header or the
// body sends every request to the session's rendezvous worker, counted as
// "session", even under a policy that would pick otherwise.
func TestSessionsStickWhateverThePolicy(t *testing.T) {
	opts := testOptions()
	opts.SessionHeader, opts.DecisionHeaders = "X-Session-Id", true
	f := newFixture(t, opts, "a", "b", "c", "d")
	rec := countingRecorder{reasons: make(chan string, 100)}
	f.rt.rec = rec
	key, want := "", f.workers[0].URL
	for i := 0; want == f.workers[0].URL; i++ { // a session firstPolicy would not pick
		key = fmt.Sprintf("conv-%d", i)
		want = policy.Sticky(f.pool.Registry.Snapshot(), key).URL()
	}
	for _, tc := range []struct {
		name, body string
		header     []string
	}{
		{"header", `{"text":"x"}`, []string{"X-Session-Id", key}},
		{"openai user", `{"user":"` + key + `","messages":[]}`, nil},
		{"sglang session_params", `{"session_params":{"id":"` + key + `"},"text":"y"}`, nil},
		{"header beats body", `{"user":"other","text":"z"}`, []string{"X-Session-Id", key}},
	} {
		path := "/generate"
		if tc.name == "openai user" {
			path = "/v1/chat/completions"
		}
		resp, _ := f.do(http.MethodPost, path, tc.body, tc.header...)
		if got := resp.Header.Get(HeaderWorker); got != want || resp.Header.Get(HeaderReason) != "session" {
			t.Errorf("%s: worker %q reason %q, want %q session", tc.name, got, resp.Header.Get(HeaderReason), want)
		}
		select {
		case r := <-rec.reasons:
			if r != "session" {
				t.Errorf("%s: counted %q", tc.name, r)
			}
		default:
			t.Errorf("%s: no routing decision counted", tc.name)
		}
	}
}
