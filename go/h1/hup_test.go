package h1

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"
)

// forWatchers runs f with each way of noticing a client leave: the
// hang-up poller (where there is one) and the goroutine watcher.
func forWatchers(t *testing.T, f func(t *testing.T, watcher func(*Server))) {
	t.Run("poller", func(t *testing.T) { f(t, func(*Server) {}) })
	t.Run("goroutine", func(t *testing.T) { f(t, func(s *Server) { s.noHup = true }) })
}

// waitCancel is a handler that, after reading the body, reports on
// started and waits for its context's end or for release; it answers
// "cancelled" or "kept" and reports a cancellation's path on cancelled.
func waitCancel(started chan<- string, release <-chan struct{}, cancelled chan<- string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		ctx := r.Context()
		done := ctx.Done()
		started <- r.URL.Path
		select {
		case <-done:
			cancelled <- r.URL.Path
			io.WriteString(w, "cancelled")
		case <-release:
			io.WriteString(w, "kept")
		}
	})
}

func within(t *testing.T, ch <-chan string, what string) string {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(20 * time.Second):
		t.Fatal(what)
		return ""
	}
}

// A client that ends its sending side cancels its request, whether the
// end comes while the request waits or together with it (before anyone
// watches); the answer is still written, then the connection closes.
func TestHalfCloseCancelsAndStillAnswers(t *testing.T) {
	for _, tc := range []struct {
		name, req string
		waitStart bool // end the client's side only once the handler runs
	}{
		{"while the request waits", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi", true},
		{"sent with the request", "GET /a HTTP/1.1\r\nHost: x\r\n\r\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forWatchers(t, func(t *testing.T, watcher func(*Server)) {
				started, cancelled := make(chan string, 1), make(chan string, 1)
				_, addr := start(t, waitCancel(started, nil, cancelled), watcher)
				rc := dial(t, addr)
				rc.send(tc.req)
				if tc.waitStart {
					within(t, started, "handler not called")
				}
				if err := rc.c.(*net.TCPConn).CloseWrite(); err != nil {
					t.Fatal(err)
				}
				within(t, cancelled, "a request whose client had left was not cancelled")
				if _, body := rc.read(strings.Fields(tc.req)[0]); body != "cancelled" {
					t.Fatalf("answer %q", body)
				}
				if !rc.closed() {
					t.Fatal("connection kept after the client left")
				}
			})
		})
	}
}

// A client that ends its side while idle gets its connection closed; a
// later client (the poller may see the same socket number again) is
// not cancelled by that.
func TestEndWhileIdleClosesAndLeavesOthersAlone(t *testing.T) {
	forWatchers(t, func(t *testing.T, watcher func(*Server)) {
		started, cancelled := make(chan string, 4), make(chan string, 4)
		release := make(chan struct{})
		_, addr := start(t, waitCancel(started, release, cancelled), watcher)
		first := dial(t, addr)
		first.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
		within(t, started, "handler not called")
		release <- struct{}{}
		if _, body := first.read("GET"); body != "kept" {
			t.Fatalf("answer %q", body)
		}
		if err := first.c.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
		if !first.closed() {
			t.Fatal("idle connection kept after its client ended its side")
		}
		first.c.Close()
		next := dial(t, addr)
		next.send("GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
		within(t, started, "handler not called")
		time.Sleep(20 * time.Millisecond) // not a condition: a stray cancel would show below
		close(release)
		if _, body := next.read("GET"); body != "kept" {
			t.Fatalf("later client's answer %q", body)
		}
		select {
		case p := <-cancelled:
			t.Fatalf("%s cancelled", p)
		default:
		}
	})
}

// Close cuts the requests in flight and cancels their contexts.
func TestCloseCancelsRequestsInFlight(t *testing.T) {
	forWatchers(t, func(t *testing.T, watcher func(*Server)) {
		started, cancelled := make(chan string, 1), make(chan string, 1)
		s, addr := start(t, waitCancel(started, nil, cancelled), watcher)
		dial(t, addr).send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
		within(t, started, "handler not called")
		s.Close()
		within(t, cancelled, "Close did not cancel the request in flight")
	})
}

// Of many waiting requests, exactly those whose clients left are
// cancelled; the others are answered.
func TestManyConnectionsOnlyTheLeftAreCancelled(t *testing.T) {
	forWatchers(t, func(t *testing.T, watcher func(*Server)) {
		const n = 40
		started, cancelled := make(chan string, n), make(chan string, n)
		release := make(chan struct{})
		_, addr := start(t, waitCancel(started, release, cancelled), watcher)
		conns := make([]*rawConn, n)
		for i := range conns {
			conns[i] = dial(t, addr)
			conns[i].send(fmt.Sprintf("GET /%02d HTTP/1.1\r\nHost: x\r\n\r\n", i))
		}
		for range n {
			within(t, started, "handler not called")
		}
		var want, got []string
		for i := 0; i < n; i += 2 {
			conns[i].c.Close()
			want = append(want, fmt.Sprintf("/%02d", i))
		}
		for range want {
			got = append(got, within(t, cancelled, "a client's leaving did not cancel its request"))
		}
		sort.Strings(got)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("cancelled %v, want %v", got, want)
		}
		close(release)
		for i := 1; i < n; i += 2 {
			if _, body := conns[i].read("GET"); body != "kept" {
				t.Fatalf("client %d: %q", i, body)
			}
		}
	})
}
