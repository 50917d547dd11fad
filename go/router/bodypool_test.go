package router

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

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
