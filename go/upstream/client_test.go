package upstream

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sgl-project/sglang-router-go/go/proxy"
)

func TestRequestIsForwardedByteExactWithoutHopHeaders(t *testing.T) {
	heads := make(chan []string, 1)
	bodies := make(chan []byte, 1)
	srv := newRawServer(t, func(c net.Conn, br *bufio.Reader) {
		head, body, ok := readRequest(br)
		if !ok {
			return
		}
		heads <- head
		bodies <- body
		_, _ = io.WriteString(c, okAnswer)
	})
	in := http.Header{
		"Content-Type": {"application/json"}, "Connection": {"keep-alive, X-Secret"}, "X-Secret": {"s"},
		"Keep-Alive": {"timeout=5"}, "Te": {"trailers"}, "Content-Length": {"999"}, "X-Request-Id": {"client"},
		"Accept": {"a", "b"},
	}
	body := []byte("{\"text\":\"caf\xc3\xa9 \\u00e9\"}")
	resp, err := newClient(t, Options{}).Send(context.Background(), http.MethodPost, srv.url+"/generate?x=1", in, body,
		[]proxy.Field{{Key: "X-Request-Id", Value: "rid"}, {Key: "X-Sglang-Router-Hops", Value: "1"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, resp.Body); got != `{"ok":true}` || resp.StatusCode != 200 || resp.Status != "200 OK" {
		t.Fatalf("answer %d %q %q", resp.StatusCode, resp.Status, got)
	}
	head := <-heads
	if want := "POST /generate?x=1 HTTP/1.1"; head[0] != want {
		t.Errorf("request line %q, want %q", head[0], want)
	}
	got := slices.Sorted(slices.Values(head[1:]))
	want := []string{"Accept: a", "Accept: b", "Content-Length: " + strconv.Itoa(len(body)), "Content-Type: application/json",
		"Host: " + strings.TrimPrefix(srv.url, "http://"), "X-Request-Id: rid", "X-Sglang-Router-Hops: 1"}
	if !slices.Equal(got, want) {
		t.Errorf("headers\n got %q\nwant %q", got, want)
	}
	if b := <-bodies; string(b) != string(body) {
		t.Errorf("body %q, want %q", b, body)
	}
}

func TestConnectionIsReusedAfterTheBodyIsRead(t *testing.T) {
	srv := newRawServer(t, answerEach(okAnswer))
	c := newClient(t, Options{})
	for i := 0; i < 5; i++ {
		resp, err := c.Send(context.Background(), http.MethodPost, srv.url+"/generate", nil, []byte("{}"), nil)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp.Body)
	}
	if n := srv.accepted.Load(); n != 1 {
		t.Fatalf("%d connections for 5 sequential requests, want 1", n)
	}
}

func TestLargeBodyIsSentWhole(t *testing.T) {
	got := make(chan []byte, 1)
	srv := newRawServer(t, func(c net.Conn, br *bufio.Reader) {
		_, body, ok := readRequest(br)
		if ok {
			got <- body
			_, _ = io.WriteString(c, okAnswer)
		}
	})
	body := []byte(strings.Repeat("0123456789abcdef", 400<<10/16))
	resp, err := newClient(t, Options{}).Send(context.Background(), http.MethodPost, srv.url+"/generate", nil, body, nil)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp.Body)
	if b := <-got; string(b) != string(body) {
		t.Fatalf("worker got %d bytes, want the %d sent", len(b), len(body))
	}
}

// A worker that closed a pooled connection (its keep-alive timeout)
// before the next request: the request is sent again on a new one.
func TestStalePooledConnectionIsRetriedOnANewOne(t *testing.T) {
	srv := newRawServer(t, func(c net.Conn, br *bufio.Reader) {
		if _, _, ok := readRequest(br); ok {
			_, _ = io.WriteString(c, okAnswer) // keep-alive answer, then close
		}
	})
	c := newClient(t, Options{})
	for i := 0; i < 3; i++ {
		resp, err := c.Send(context.Background(), http.MethodPost, srv.url+"/generate", nil, []byte("{}"), nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if got := readAll(t, resp.Body); got != `{"ok":true}` {
			t.Fatalf("request %d: %q", i, got)
		}
	}
	if n := srv.accepted.Load(); n != 3 {
		t.Fatalf("%d connections, want 3 (one per request)", n)
	}
}

// An idle connection the worker closed is found closed before it is used
// once it was idle past CheckAfter.
func TestIdleConnectionClosedByTheWorkerIsNotUsed(t *testing.T) {
	closed := make(chan struct{}, 4)
	srv := newRawServer(t, func(c net.Conn, br *bufio.Reader) {
		if _, _, ok := readRequest(br); ok {
			_, _ = io.WriteString(c, okAnswer)
		}
		c.Close()
		closed <- struct{}{}
	})
	clock := &fakeClock{now: time.Unix(1000, 0)}
	c := newClient(t, Options{Now: clock.Now})
	resp, err := c.Send(context.Background(), http.MethodGet, srv.url+"/health", nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp.Body)
	<-closed
	clock.Advance(2 * time.Second)
	addr, _, _, _ := splitURL(srv.url)
	if cn := c.host(addr).get(c.opts); cn != nil {
		t.Fatal("a connection the worker closed was handed out")
	}
}

// A worker that half-closes a connection it let sit (its keep-alive
// timeout) and then neither answers nor closes: the next request on it
// sees the EOF and is sent again on a new connection, not left waiting.
// (Idle for less than recentIdle, a request would be written by the
// answer's read, which may miss a FIN that came before it.)
func TestHalfClosedIdleConnectionIsRetried(t *testing.T) {
	srv := newRawServer(t, func(c net.Conn, br *bufio.Reader) {
		if _, _, ok := readRequest(br); ok {
			_, _ = io.WriteString(c, okAnswer)
		}
		if c.(*net.TCPConn).CloseWrite() == nil { // half-closed: reads on, never answers
			_, _ = io.Copy(io.Discard, br)
		}
	})
	clock := &fakeClock{now: time.Unix(1000, 0)}
	c := newClient(t, Options{Now: clock.Now})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range 2 {
		resp, err := c.Send(ctx, http.MethodPost, srv.url+"/generate", nil, []byte("{}"), nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if got := readAll(t, resp.Body); got != `{"ok":true}` {
			t.Fatalf("request %d: %q", i, got)
		}
		clock.Advance(recentIdle + time.Millisecond) // below CheckAfter: no check before reuse
	}
	if n := srv.accepted.Load(); n != 2 {
		t.Fatalf("%d connections, want 2", n)
	}
	c.CloseIdleConnections()
}

func TestAFreshConnectionsFailureIsNotRetried(t *testing.T) {
	srv := newRawServer(t, func(c net.Conn, br *bufio.Reader) { readRequest(br) }) // closes without answering
	_, err := newClient(t, Options{}).Send(context.Background(), http.MethodPost, srv.url+"/generate", nil, []byte("{}"), nil)
	if !errors.Is(err, proxy.ErrUpstream) {
		t.Fatalf("error %v, want ErrUpstream", err)
	}
	if n := srv.accepted.Load(); n != 1 {
		t.Fatalf("%d connections, want 1", n)
	}
}

func TestRefusedConnectionIsUpstreamError(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	url := "http://" + ln.Addr().String()
	ln.Close()
	_, err := newClient(t, Options{}).Send(context.Background(), http.MethodGet, url+"/health", nil, nil, nil)
	if !errors.Is(err, proxy.ErrUpstream) {
		t.Fatalf("error %v, want ErrUpstream", err)
	}
}

// waitFor runs f and fails the test if it does not return within a
// generous deadline (a hang is the failure these tests look for).
func waitFor[T any](t *testing.T, what string, f func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- f() }()
	select {
	case v := <-done:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not return", what)
	}
	var zero T
	return zero
}

func TestCancelAbortsAWaitForTheAnswer(t *testing.T) {
	release := make(chan struct{})
	got := make(chan struct{}, 1)
	srv := newRawServer(t, func(c net.Conn, br *bufio.Reader) {
		readRequest(br)
		got <- struct{}{}
		<-release
	})
	t.Cleanup(func() { close(release) }) // runs before the server's cleanup
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-got; cancel() }()
	err := waitFor(t, "Send", func() error {
		_, err := newClient(t, Options{}).Send(ctx, http.MethodPost, srv.url+"/generate", nil, []byte("{}"), nil)
		return err
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

func TestCancelAbortsABodyReadAndTheConnectionIsNotReused(t *testing.T) {
	release := make(chan struct{})
	srv := newRawServer(t, func(c net.Conn, br *bufio.Reader) {
		readRequest(br)
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart")
		<-release
	})
	t.Cleanup(func() { close(release) }) // runs before the server's cleanup
	c := newClient(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	resp, err := c.Send(ctx, http.MethodPost, srv.url+"/generate", nil, []byte("{}"), nil)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	cancel()
	err = waitFor(t, "body read", func() error { _, err := resp.Body.Read(make([]byte, 10)); return err })
	if err == nil {
		t.Fatal("read after cancel succeeded")
	}
	resp.Body.Close()
	if n := c.idle(srv.url); n != 0 {
		t.Fatalf("%d idle connections after an aborted answer, want 0", n)
	}
}

// An event stream's chunks reach the reader as the worker sends them: the
// reader gets the first event while the worker holds back the second.
func TestChunkedEventsArePassedOnAsTheyArrive(t *testing.T) {
	next := make(chan struct{})
	srv := newRawServer(t, func(c net.Conn, br *bufio.Reader) {
		for {
			if _, _, ok := readRequest(br); !ok {
				return
			}
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"+
				"d\r\ndata: first\n\n\r\n")
			<-next
			_, _ = io.WriteString(c, "e\r\ndata: second\n\n\r\n0\r\nX-Trailer: t\r\n\r\n")
		}
	})
	c := newClient(t, Options{})
	resp, err := c.Send(context.Background(), http.MethodPost, srv.url+"/v1/chat/completions", nil, []byte("{}"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ContentLength != -1 {
		t.Errorf("ContentLength %d, want -1", resp.ContentLength)
	}
	first := waitFor(t, "first event", func() string {
		b := make([]byte, 1024)
		n, _ := resp.Body.Read(b)
		return string(b[:n])
	})
	if first != "data: first\n\n" {
		t.Fatalf("first read %q", first)
	}
	close(next)
	if rest := readAll(t, resp.Body); rest != "data: second\n\n" {
		t.Fatalf("rest %q", rest)
	}
	if n := c.idle(srv.url); n != 1 {
		t.Fatalf("%d idle connections after a whole chunked answer, want 1", n)
	}
}

func TestAnswerFraming(t *testing.T) {
	for _, c := range []struct {
		name, method, answer, body string
		reused                     bool
	}{
		{"content-length", "POST", okAnswer, `{"ok":true}`, true},
		{"chunked with extension and trailer", "POST", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nT: v\r\n\r\n", "abcde", true},
		{"until close", "POST", "HTTP/1.0 200 OK\r\n\r\nall of it", "all of it", false},
		{"connection close", "POST", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", "ok", false},
		{"HTTP/1.0 keep-alive", "POST", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", "ok", true},
		{"interim 100 first", "POST", "HTTP/1.1 100 Continue\r\n\r\n" + okAnswer, `{"ok":true}`, true},
		{"204", "POST", "HTTP/1.1 204 No Content\r\n\r\n", "", true},
		{"HEAD", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n", "", true},
		{"empty content-length", "POST", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := newRawServer(t, func(conn net.Conn, br *bufio.Reader) {
				for {
					if _, _, ok := readRequest(br); !ok {
						return
					}
					_, _ = io.WriteString(conn, c.answer)
					if !c.reused {
						return
					}
				}
			})
			cl := newClient(t, Options{})
			resp, err := cl.Send(context.Background(), c.method, srv.url+"/x", nil, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := readAll(t, resp.Body); got != c.body {
				t.Fatalf("body %q, want %q", got, c.body)
			}
			if n := cl.idle(srv.url); (n == 1) != c.reused {
				t.Fatalf("%d idle connections, reuse expected: %v", n, c.reused)
			}
		})
	}
}

func TestMalformedAnswersAreUpstreamErrors(t *testing.T) {
	for name, answer := range map[string]string{
		"garbage":                    "hello\r\n\r\n",
		"bad status code":            "HTTP/1.1 2x0 OK\r\n\r\n",
		"unsupported protocol":       "HTTP/2.0 200 OK\r\n\r\n",
		"header without colon":       "HTTP/1.1 200 OK\r\nbroken\r\n\r\n",
		"space in header name":       "HTTP/1.1 200 OK\r\nBad Name: v\r\n\r\n",
		"bad content-length":         "HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n",
		"conflicting content-length": "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
		"header line too long":       "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", readBufSize) + "\r\n\r\n",
		"head cut short":             "HTTP/1.1 200 OK\r\nContent-Ty",
	} {
		t.Run(name, func(t *testing.T) {
			srv := newRawServer(t, func(c net.Conn, br *bufio.Reader) {
				readRequest(br)
				_, _ = io.WriteString(c, answer)
			})
			_, err := newClient(t, Options{}).Send(context.Background(), http.MethodPost, srv.url+"/x", nil, nil, nil)
			if !errors.Is(err, proxy.ErrUpstream) {
				t.Fatalf("error %v, want ErrUpstream", err)
			}
		})
	}
}

func TestBodyCutShortIsAnError(t *testing.T) {
	for name, answer := range map[string]string{
		"content-length": "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
		"chunked":        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabc",
		"bad chunk size": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			srv := newRawServer(t, func(c net.Conn, br *bufio.Reader) {
				readRequest(br)
				_, _ = io.WriteString(c, answer)
			})
			resp, err := newClient(t, Options{}).Send(context.Background(), http.MethodPost, srv.url+"/x", nil, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if _, err := io.ReadAll(resp.Body); err == nil {
				t.Fatal("a body cut short read without error")
			}
		})
	}
}

func TestHeadersAreCanonicalAndRepeatedOnesKept(t *testing.T) {
	srv := newRawServer(t, answerEach("HTTP/1.1 418 I'm a teapot\r\ncontent-TYPE: text/plain\r\nx-custom-thing:  v1 \r\nX-Custom-Thing: v2\r\nContent-Length: 0\r\n\r\n"))
	resp, err := newClient(t, Options{}).Send(context.Background(), http.MethodGet, srv.url+"/x", nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp.Body)
	if resp.StatusCode != 418 || resp.Status != "418 I'm a teapot" {
		t.Errorf("status %d %q", resp.StatusCode, resp.Status)
	}
	if got := resp.Header["Content-Type"]; !slices.Equal(got, []string{"text/plain"}) {
		t.Errorf("Content-Type %q", got)
	}
	if got := resp.Header["X-Custom-Thing"]; !slices.Equal(got, []string{"v1", "v2"}) {
		t.Errorf("X-Custom-Thing %q", got)
	}
}

func TestOnlyPlainHTTPURLs(t *testing.T) {
	for _, url := range []string{"https://w:1/x", "http://", "http://user@w:1/x", "w:1/x"} {
		if _, err := newClient(t, Options{}).Send(context.Background(), http.MethodGet, url, nil, nil, nil); !errors.Is(err, proxy.ErrUpstream) {
			t.Errorf("%s: error %v, want ErrUpstream", url, err)
		}
	}
}

func TestSplitURL(t *testing.T) {
	for url, want := range map[string][3]string{
		"http://w:8000/generate":     {"w:8000", "w:8000", "/generate"},
		"http://w:8000":              {"w:8000", "w:8000", "/"},
		"http://w:8000?a=1":          {"w:8000", "w:8000", "/?a=1"},
		"http://w/generate":          {"w:80", "w", "/generate"},
		"http://[::1]:9/v1/models":   {"[::1]:9", "[::1]:9", "/v1/models"},
		"http://[::1]/v1/models":     {"[::1]:80", "[::1]", "/v1/models"},
		"http://w:8000/p/generate?q": {"w:8000", "w:8000", "/p/generate?q"},
	} {
		addr, auth, target, ok := splitURL(url)
		if got := [3]string{addr, auth, target}; !ok || got != want {
			t.Errorf("%s: %q %v, want %q", url, got, ok, want)
		}
	}
}

// Reading chunks that arrived together never waits for a chunk whose size
// line is still on its way.
func TestReadingChunksDoesNotWaitForAnIncompleteSizeLine(t *testing.T) {
	rest := make(chan struct{})
	srv := newRawServer(t, func(c net.Conn, br *bufio.Reader) {
		readRequest(br)
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"+
			"3\r\none\r\n3\r\ntwo\r\n5\r\nthree\r\n1")
		<-rest
		_, _ = io.WriteString(c, "\r\n!\r\n0\r\n\r\n")
	})
	resp, err := newClient(t, Options{}).Send(context.Background(), http.MethodPost, srv.url+"/x", nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := waitFor(t, "first read", func() string {
		b := make([]byte, 1024)
		n, _ := io.ReadAtLeast(resp.Body, b, len("onetwothree"))
		return string(b[:n])
	})
	if got != "onetwothree" {
		t.Fatalf("first read %q, want the three chunks that had arrived", got)
	}
	close(rest)
	if tail := readAll(t, resp.Body); tail != "!" {
		t.Fatalf("rest %q", tail)
	}
}

// deadlineOnly has a deadline but a Done that never closes, as the
// router's request context: the deadline alone must end the exchange.
type deadlineOnly struct {
	context.Context
	d time.Time
}

func (c deadlineOnly) Deadline() (time.Time, bool) { return c.d, true }

func TestContextDeadlineEndsTheExchangeWithoutDone(t *testing.T) {
	release := make(chan struct{})
	srv := newRawServer(t, func(c net.Conn, br *bufio.Reader) {
		readRequest(br)
		<-release
	})
	t.Cleanup(func() { close(release) }) // runs before the server's cleanup
	ctx := deadlineOnly{context.Background(), time.Now().Add(100 * time.Millisecond)}
	err := waitFor(t, "Send", func() error {
		_, err := newClient(t, Options{}).Send(ctx, http.MethodPost, srv.url+"/generate", nil, []byte("{}"), nil)
		return err
	})
	if !errors.Is(err, proxy.ErrUpstream) {
		t.Fatalf("error %v, want ErrUpstream", err)
	}
}

// A connection that carried huge headers does not keep buffers that size
// while it idles in the pool.
func TestPooledConnectionsDropHugeBuffers(t *testing.T) {
	big := strings.Repeat("x", 100<<10)
	answer := "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-Big: "+big[:readBufSize/2]+"\r\n", 10) + "Content-Length: 0\r\n\r\n"
	srv := newRawServer(t, answerEach(answer))
	c := newClient(t, Options{})
	resp, err := c.Send(context.Background(), http.MethodPost, srv.url+"/x", http.Header{"X-Big": {big}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(resp.Header["X-Big"]); got != 10 {
		t.Fatalf("%d X-Big headers, want 10", got)
	}
	readAll(t, resp.Body)
	addr, _, _, _ := splitURL(srv.url)
	h := c.host(addr)
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.idle) != 1 {
		t.Fatalf("%d idle connections, want 1", len(h.idle))
	}
	if cn := h.idle[0]; cap(cn.wbuf) > keptBuf || cap(cn.hbuf) > keptBuf {
		t.Fatalf("idle connection keeps %d + %d bytes of buffers", cap(cn.wbuf), cap(cn.hbuf))
	}
}

// Connections to a worker nobody calls any more are closed once idle past
// IdleTimeout, and the worker forgotten, when requests to others go on.
func TestIdleConnectionsOfAnUnusedWorkerAreClosed(t *testing.T) {
	closed := make(chan struct{}, 1)
	gone := newRawServer(t, func(c net.Conn, br *bufio.Reader) {
		answerEach(okAnswer)(c, br)
		closed <- struct{}{} // the client closed its connection
	})
	live := newRawServer(t, answerEach(okAnswer))
	clock := &fakeClock{now: time.Unix(1000, 0)}
	c := newClient(t, Options{Now: clock.Now, IdleTimeout: time.Minute})
	send := func(url string) {
		resp, err := c.Send(context.Background(), http.MethodGet, url+"/x", nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp.Body)
	}
	send(gone.url)
	send(live.url)
	clock.Advance(2 * time.Minute)
	send(live.url) // its put sweeps
	waitFor(t, "the unused worker's connection closed", func() bool { <-closed; return true })
	addr, _, _, _ := splitURL(gone.url)
	c.mu.RLock()
	_, kept := c.hosts[addr]
	c.mu.RUnlock()
	if kept {
		t.Error("the unused worker is still in the client's table")
	}
	if n := c.idle(live.url); n != 1 {
		t.Errorf("the live worker has %d idle connections, want 1", n)
	}
}
