package router

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/sgl-project/sglang-router-go/go/upstream"
)

// A large body is forwarded unread when the policy ignores text: a
// malformed one reaches the worker, whose answer the client gets. A small
// one, or any body under a policy that reads text, is checked by the
// router and refused with 400.
func TestLargeBodyIsScannedOnlyWhenThePolicyNeedsText(t *testing.T) {
	large := `{"text":"` + strings.Repeat("a", unscannedAbove) + `"` // no closing brace
	for _, c := range []struct {
		name     string
		text     bool
		body     string
		status   int
		forwards bool
	}{
		{"large, policy ignores text", false, large, 200, true},
		{"small, policy ignores text", false, `{"text":"a"`, 400, false},
		{"large, policy reads text", true, large, 400, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := testOptions()
			f := newFixture(t, opts, "w0")
			if c.text {
				f.pool.Policy = firstPolicy{text: true}
				f.rt = New(opts, Deps{Regular: f.pool, Client: &http.Client{}, Plain: upstream.New(upstream.Options{}),
					Recorder: nopRecorder{}, Log: zap.NewNop(), Workers: f.admin})
				f.srv = httptest.NewServer(f.rt)
				t.Cleanup(f.srv.Close)
			}
			resp, body := f.do("POST", "/generate", c.body)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, c.status, body)
			}
			reqs := f.workers[0].Requests()
			if got := len(reqs) == 1 && string(reqs[0].Body) == c.body; got != c.forwards {
				t.Fatalf("forwarded byte-exact: %v, want %v (%d requests)", got, c.forwards, len(reqs))
			}
		})
	}
}
