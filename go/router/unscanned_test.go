package router

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.uber.org/zap"

	"github.com/sgl-project/sglang-router-go/go/upstream"
	"github.com/sgl-project/sglang-router-go/go/worker"
	"github.com/sgl-project/sglang-router-go/go/worker/workertest"
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

// Large bodies are read into recycled buffers: concurrent requests with
// distinct bodies must each reach the worker byte-exact.
func TestRecycledBodyBuffersKeepEveryBodyIntact(t *testing.T) {
	opts := testOptions()
	f := newFixture(t, opts, "w0")
	const clients, each = 4, 6
	var wg sync.WaitGroup
	sent := make(chan string, clients*each)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				body := fmt.Sprintf(`{"text":"%d-%d %s"}`, c, i, strings.Repeat(string(rune('a'+c+i)), 100<<10+c*1000+i))
				resp, err := http.Post(f.srv.URL+"/generate", "application/json", strings.NewReader(body))
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("status %d", resp.StatusCode)
				}
				sent <- body
			}
		}()
	}
	wg.Wait()
	close(sent)
	got := map[string]bool{}
	for _, r := range f.workers[0].Requests() {
		got[string(r.Body)] = true
	}
	for body := range sent {
		if !got[body] {
			t.Fatalf("a body of %d bytes did not reach the worker intact", len(body))
		}
	}
}

func TestBodyClasses(t *testing.T) {
	for n, want := range map[int64]int{0: -1, 1<<16 - 1: -1, 1 << 16: 16, 1<<16 + 1: 17, 400 << 10: 19, 1 << 26: 26, 1<<26 + 1: -1} {
		if got := bodyClass(n); got != want {
			t.Errorf("bodyClass(%d) = %d, want %d", n, got, want)
		}
		if b := bodyBuffer(n); int64(len(b)) != n {
			t.Errorf("bodyBuffer(%d) has %d bytes", n, len(b))
		}
	}
}

// A large body left unscanned still gets its data-parallel rank when it
// goes to a rank worker; a malformed one goes as it came.
func TestUnscannedBodyStillGetsItsRank(t *testing.T) {
	fw := workertest.New(t, "w0")
	pool := &Pool{Role: worker.Regular, Registry: worker.NewRegistry(), Policy: firstPolicy{}}
	w := worker.NewRank(fw.URL, 1, 2, worker.Regular, nil)
	w.SetHealthy(true)
	if err := pool.Registry.Add(w); err != nil {
		t.Fatal(err)
	}
	rt := New(testOptions(), Deps{Regular: pool, Client: &http.Client{}, Plain: upstream.New(upstream.Options{}),
		Recorder: nopRecorder{}, Log: zap.NewNop()})
	srv := httptest.NewServer(rt)
	defer srv.Close()
	prompt := strings.Repeat("a", unscannedAbove)
	for i, c := range []struct {
		body, want string
	}{
		{`{"text":"` + prompt + `"}`, `"data_parallel_rank":1`},
		{`{"text":"` + prompt + `"`, ""},
	} {
		resp, err := http.Post(srv.URL+"/generate", "application/json", strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := string(fw.Requests()[i].Body)
		if c.want == "" && got != c.body {
			t.Errorf("malformed body changed on its way: %d bytes, sent %d", len(got), len(c.body))
		}
		if c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("worker got no %s: ...%s", c.want, got[max(0, len(got)-60):])
		}
	}
}
