package router

import (
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/sgl-project/sglang-router-go/go/worker"
)

func TestHopCountIsForwardedAndBounded(t *testing.T) {
	f := newFixture(t, testOptions(), "w0")
	for _, tc := range []struct {
		name, in string // "" = no header
		status   int
		worker   string // the count the worker sees
	}{
		{"from a client", "", 200, "1"},
		{"from another router", "3", 200, "4"},
		{"the last hop allowed", "7", 200, "8"},
		{"one hop too many", "8", 508, ""},
		{"far too many", "100000", 508, ""},
		{"malformed", "x", 400, ""},
		{"negative", "-1", 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.workers[0].Count("/generate")
			var header []string
			if tc.in != "" {
				header = []string{"X-SGLang-Router-Hops", tc.in}
			}
			resp, body := f.do("POST", "/generate", `{"text":"a"}`, header...)
			if resp.StatusCode != tc.status {
				t.Fatalf("got %d %s, want %d", resp.StatusCode, body, tc.status)
			}
			reqs := f.workers[0].Requests()
			if tc.worker == "" {
				if len(reqs) != before {
					t.Fatal("a refused request reached the worker")
				}
				if e := clientError(t, body); tc.status == 508 && e.Error.Type != "loop_detected" {
					t.Errorf("type %q", e.Error.Type)
				}
				return
			}
			if got := reqs[len(reqs)-1].Header.Get("X-SGLang-Router-Hops"); got != tc.worker {
				t.Errorf("worker saw %q hops, want %s", got, tc.worker)
			}
		})
	}
}

// Two routers that list each other as their only worker (retries on): one
// request goes round maxHops times and fails with 508; it is not retried
// on the way back, so the loop costs maxHops+1 requests in all, and every
// goroutine it started ends.
func TestForwardingLoopCostsOneFailedRequest(t *testing.T) {
	before := runtime.NumGoroutine()
	a, b := newFixture(t, testOptions()), newFixture(t, testOptions())
	recA, _ := a.observe()
	recB, _ := b.observe()
	for _, pair := range [][2]*fixture{{a, b}, {b, a}} {
		w := worker.New(pair[1].srv.URL, worker.Regular, nil)
		w.SetHealthy(true)
		if err := pair[0].pool.Registry.Add(w); err != nil {
			t.Fatal(err)
		}
	}
	resp, body := a.do("POST", "/generate", `{"text":"a"}`)
	if resp.StatusCode != 508 || !strings.Contains(body, "loop_detected") {
		t.Fatalf("got %d %s, want 508", resp.StatusCode, body)
	}
	if n := recA.requestCount() + recB.requestCount(); n != maxHops+1 {
		t.Errorf("the loop cost %d requests, want %d", n, maxHops+1)
	}
	for _, f := range []*fixture{a, b} {
		f.rt.proxy.Client.CloseIdleConnections()
		if inFlight(f.pool) != 0 {
			t.Error("in-flight count leaked")
		}
	}
	http.DefaultClient.CloseIdleConnections()
	a.srv.CloseClientConnections()
	b.srv.CloseClientConnections()
	waitFor(t, "the loop's goroutines to end", func() bool { return runtime.NumGoroutine() <= before+8 })
}
