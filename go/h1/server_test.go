package h1

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// start serves h on a loopback port and returns its address.
func start(t *testing.T, h http.Handler, opts ...func(*Server)) (*Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 64 << 10}
	for _, o := range opts {
		o(s)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	t.Cleanup(func() {
		_ = s.Close()
		if err := <-served; err != http.ErrServerClosed {
			t.Errorf("Serve returned %v", err)
		}
	})
	return s, ln.Addr().String()
}

// rawConn is a client connection speaking raw bytes.
type rawConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dial(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(30 * time.Second)) // generous: a hung test fails instead of hanging
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

func (rc *rawConn) send(s string) {
	rc.t.Helper()
	if _, err := io.WriteString(rc.c, s); err != nil {
		rc.t.Fatal(err)
	}
}

// read reads one answer to a request of method and its whole body.
func (rc *rawConn) read(method string) (*http.Response, string) {
	rc.t.Helper()
	resp, err := http.ReadResponse(rc.br, &http.Request{Method: method})
	if err != nil {
		rc.t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		rc.t.Fatalf("body: %v", err)
	}
	return resp, string(b)
}

// closed reports whether the server closed the connection (EOF with
// nothing more to read).
func (rc *rawConn) closed() bool {
	_, err := rc.br.ReadByte()
	return err == io.EOF || errors.Is(err, net.ErrClosed) || errors.Is(err, errConnReset)
}

var errConnReset = errors.New("connection reset by peer")

// echo answers with the method, path, query, a header and the body.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "body: "+err.Error(), http.StatusBadRequest)
		return
	}
	fmt.Fprintf(w, "%s %s %s %s %s", r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("X-Test"), b)
})

func TestServesRequestsOnAKeptAliveConnection(t *testing.T) {
	_, addr := start(t, echo)
	rc := dial(t, addr)
	for i := range 3 {
		rc.send(fmt.Sprintf("POST /p%d?q=%d HTTP/1.1\r\nHost: x\r\nx-test: v%d\r\nContent-Length: 5\r\n\r\nhello", i, i, i))
		resp, body := rc.read("POST")
		if want := fmt.Sprintf("POST /p%d q=%d v%d hello", i, i, i); resp.StatusCode != 200 || body != want {
			t.Fatalf("request %d: %d %q, want %q", i, resp.StatusCode, body, want)
		}
		if resp.ContentLength != int64(len(body)) || resp.Close {
			t.Fatalf("request %d: Content-Length %d, close %v", i, resp.ContentLength, resp.Close)
		}
	}
}

func TestPipelinedRequestsAreAnsweredInOrder(t *testing.T) {
	_, addr := start(t, echo)
	rc := dial(t, addr)
	var all strings.Builder
	for i := range 5 {
		fmt.Fprintf(&all, "POST /%d HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n%d", i, i)
	}
	rc.send(all.String())
	for i := range 5 {
		if _, body := rc.read("POST"); body != fmt.Sprintf("POST /%d   %d", i, i) {
			t.Fatalf("answer %d: %q", i, body)
		}
	}
}

// Requests pipelined in one write are served in turn also when the
// handler waits on its context (and the disconnect watcher runs).
func TestPipelinedRequestsWithAWatchingHandler(t *testing.T) {
	forWatchers(t, testPipelinedRequestsWithAWatchingHandler)
}

func testPipelinedRequestsWithAWatchingHandler(t *testing.T, watcher func(*Server)) {
	_, addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stop := context.AfterFunc(r.Context(), func() {})
		defer stop()
		io.WriteString(w, r.URL.Path)
	}), watcher)
	rc := dial(t, addr)
	rc.send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\nGET /3 HTTP/1.1\r\nHost: x\r\n\r\n")
	for i := 1; i <= 3; i++ {
		if _, body := rc.read("GET"); body != fmt.Sprintf("/%d", i) {
			t.Fatalf("answer %d: %q", i, body)
		}
	}
}

func TestChunkedRequestBody(t *testing.T) {
	_, addr := start(t, echo)
	rc := dial(t, addr)
	rc.send("POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer-X: y\r\n\r\n")
	if _, body := rc.read("POST"); body != "POST /c   hello world" {
		t.Fatalf("got %q", body)
	}
	rc.send("GET /next HTTP/1.1\r\nHost: x\r\n\r\n") // the connection is still in step
	if _, body := rc.read("GET"); body != "GET /next   " {
		t.Fatalf("next: %q", body)
	}
}

func TestMalformedChunksAre400(t *testing.T) {
	for name, chunks := range map[string]string{
		"bad size":        "zz\r\nhello\r\n0\r\n\r\n",
		"no CRLF after":   "5\r\nhelloXX0\r\n\r\n",
		"signed size":     "+5\r\nhello\r\n0\r\n\r\n",
		"size without CR": "5\nhello\r\n0\r\n\r\n",
		"huge size":       "fffffffffffffffffff\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, addr := start(t, echo)
			rc := dial(t, addr)
			rc.send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks)
			if resp, body := rc.read("POST"); resp.StatusCode != 400 || !strings.Contains(body, "chunked") {
				t.Fatalf("%d %q", resp.StatusCode, body)
			}
		})
	}
}

func TestSmugglingAttemptsAreRefusedAndClosed(t *testing.T) {
	for _, c := range []struct {
		name, headers string
		status        int
	}{
		{"Content-Length and Transfer-Encoding", "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", 400},
		{"differing Content-Lengths", "Content-Length: 3\r\nContent-Length: 4\r\n", 400},
		{"gzip transfer coding", "Transfer-Encoding: gzip\r\n", 501},
		{"chunked twice", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", 501},
		{"signed Content-Length", "Content-Length: +3\r\n", 400},
		{"space in a header name", "Content-Length : 3\r\n", 400},
		{"obsolete line folding", "X-A: b\r\n c\r\n", 400},
		{"two Hosts", "Host: y\r\n", 400},
		{"unsupported Expect", "Expect: something\r\n", 417},
	} {
		t.Run(c.name, func(t *testing.T) {
			var served atomic.Int32
			_, addr := start(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served.Add(1) }))
			rc := dial(t, addr)
			rc.send("POST / HTTP/1.1\r\nHost: x\r\n" + c.headers + "\r\nabc0\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
			resp, _ := rc.read("POST")
			if resp.StatusCode != c.status || !resp.Close {
				t.Fatalf("%d close=%v, want %d and close", resp.StatusCode, resp.Close, c.status)
			}
			if !rc.closed() || served.Load() != 0 {
				t.Fatalf("connection kept, or handler ran %d times", served.Load())
			}
		})
	}
}

func TestMissingHostIs400ForHTTP11Only(t *testing.T) {
	_, addr := start(t, echo)
	rc := dial(t, addr)
	rc.send("GET / HTTP/1.1\r\n\r\n")
	if resp, _ := rc.read("GET"); resp.StatusCode != 400 {
		t.Fatalf("HTTP/1.1 without Host: %d", resp.StatusCode)
	}
	rc = dial(t, addr)
	rc.send("GET /old HTTP/1.0\r\n\r\n")
	resp, body := rc.read("GET")
	if resp.StatusCode != 200 || body != "GET /old   " || !rc.closed() {
		t.Fatalf("HTTP/1.0: %d %q", resp.StatusCode, body)
	}
}

func TestExpectContinue(t *testing.T) {
	_, addr := start(t, echo)
	rc := dial(t, addr)
	rc.send("POST /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
	line, err := rc.br.ReadString('\n')
	if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("before the body: %q %v", line, err)
	}
	if blank, _ := rc.br.ReadString('\n'); blank != "\r\n" {
		t.Fatalf("100 Continue not ended: %q", blank)
	}
	rc.send("data")
	if _, body := rc.read("POST"); body != "POST /e   data" {
		t.Fatalf("got %q", body)
	}
}

// A handler that answers without reading a body the client holds back
// (Expect: 100-continue) gets no 100 sent, and the connection closes.
func TestExpectContinueUnreadClosesTheConnection(t *testing.T) {
	_, addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(403) }))
	rc := dial(t, addr)
	rc.send("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 100000\r\n\r\n")
	if resp, _ := rc.read("POST"); resp.StatusCode != 403 || !resp.Close {
		t.Fatalf("%d close=%v", resp.StatusCode, resp.Close)
	}
	if !rc.closed() {
		t.Fatal("connection kept")
	}
}

func TestUnreadSmallBodyIsDiscardedAndTheConnectionKept(t *testing.T) {
	_, addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.URL.Path) }))
	rc := dial(t, addr)
	rc.send("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, body := rc.read("POST"); body != "/a" {
		t.Fatalf("first: %q", body)
	}
	if _, body := rc.read("GET"); body != "/b" {
		t.Fatalf("second: %q", body)
	}
}

func TestHeadersOverTheLimitAre431(t *testing.T) {
	_, addr := start(t, echo)
	rc := dial(t, addr)
	rc.send("GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + strings.Repeat("a", 70<<10) + "\r\n\r\n")
	if resp, _ := rc.read("GET"); resp.StatusCode != 431 {
		t.Fatalf("%d", resp.StatusCode)
	}
	rc = dial(t, addr) // just under the limit is served
	rc.send("GET / HTTP/1.1\r\nHost: x\r\nX-Test: " + strings.Repeat("b", 60<<10) + "\r\n\r\n")
	if resp, body := rc.read("GET"); resp.StatusCode != 200 || len(body) < 60<<10 {
		t.Fatalf("%d, %d bytes", resp.StatusCode, len(body))
	}
}

func TestSlowHeadersCloseTheConnection(t *testing.T) {
	_, addr := start(t, echo, func(s *Server) { s.ReadHeaderTimeout = 200 * time.Millisecond })
	rc := dial(t, addr)
	rc.send("GET / HTTP/1.1\r\nHost: x\r\n") // never finished
	if !rc.closed() {
		t.Fatal("no close")
	}
	// A kept-alive connection: the idle wait is bounded by IdleTimeout,
	// the next request's headers by ReadHeaderTimeout from its first byte.
	rc = dial(t, addr)
	rc.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	rc.read("GET")
	rc.send("GET / HTTP/1.1\r\n")
	if !rc.closed() {
		t.Fatal("no close on the second request")
	}
}

func TestIdleConnectionsCloseAfterIdleTimeout(t *testing.T) {
	_, addr := start(t, echo, func(s *Server) { s.IdleTimeout = 100 * time.Millisecond })
	rc := dial(t, addr)
	rc.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	rc.read("GET")
	if !rc.closed() {
		t.Fatal("idle connection kept")
	}
}

func TestConnectionCloseAndHTTP10KeepAlive(t *testing.T) {
	_, addr := start(t, echo)
	rc := dial(t, addr)
	rc.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if resp, _ := rc.read("GET"); !resp.Close || !rc.closed() {
		t.Fatal("Connection: close not honoured")
	}
	rc = dial(t, addr)
	for range 2 {
		rc.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
		if resp, _ := rc.read("GET"); resp.Close || resp.Header.Get("Connection") != "keep-alive" {
			t.Fatalf("HTTP/1.0 keep-alive: close=%v %q", resp.Close, resp.Header.Get("Connection"))
		}
	}
}

func TestHandlerConnectionCloseClosesAfterTheAnswer(t *testing.T) {
	_, addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Connection", "close")
		io.WriteString(w, "bye")
	}))
	rc := dial(t, addr)
	rc.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, body := rc.read("GET"); !resp.Close || body != "bye" || !rc.closed() {
		t.Fatalf("close=%v %q", resp.Close, body)
	}
}

func TestHeadAnswersHaveNoBody(t *testing.T) {
	_, addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "twelve bytes") }))
	rc := dial(t, addr)
	rc.send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, body := rc.read("HEAD"); resp.ContentLength != 12 || body != "" {
		t.Fatalf("HEAD: Content-Length %d, body %q", resp.ContentLength, body)
	}
	if _, body := rc.read("GET"); body != "twelve bytes" {
		t.Fatalf("GET after HEAD: %q", body)
	}
}

// An answer flushed or longer than the buffer is chunked, each flush
// reaching the client at once; a short one gets a Content-Length; one
// whose Content-Length the handler set keeps it.
func TestAnswerFraming(t *testing.T) {
	next := make(chan struct{})
	_, addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/flush":
			rc := http.NewResponseController(w)
			for i := range 3 {
				fmt.Fprintf(w, "data: %d\n\n", i)
				if err := rc.Flush(); err != nil {
					t.Error(err)
				}
				<-next
			}
		case "/large":
			w.Write([]byte(strings.Repeat("x", 100<<10)))
		case "/declared":
			w.Header().Set("Content-Length", "5000")
			w.Write([]byte(strings.Repeat("y", 5000)))
		}
	}))
	rc := dial(t, addr)
	rc.send("GET /flush HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(rc.br, nil)
	if err != nil || len(resp.TransferEncoding) != 1 {
		t.Fatalf("flushed answer: %v %v", err, resp.TransferEncoding)
	}
	br := bufio.NewReader(resp.Body)
	for i := range 3 {
		line, err := br.ReadString('\n')
		if err != nil || line != fmt.Sprintf("data: %d\n", i) {
			t.Fatalf("event %d: %q %v", i, line, err)
		}
		br.ReadString('\n')
		next <- struct{}{}
	}
	if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
		t.Fatalf("end: %q %v", rest, err)
	}
	rc.send("GET /large HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, body := rc.read("GET"); len(resp.TransferEncoding) != 1 || len(body) != 100<<10 {
		t.Fatalf("large: %v, %d bytes", resp.TransferEncoding, len(body))
	}
	rc.send("GET /declared HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, body := rc.read("GET"); resp.ContentLength != 5000 || len(body) != 5000 {
		t.Fatalf("declared: %d, %d bytes", resp.ContentLength, len(body))
	}
}

// The client leaving while the handler waits cancels the request's
// context, through Done and through context.AfterFunc alike.
func TestClientDisconnectCancelsTheContext(t *testing.T) {
	forWatchers(t, testClientDisconnectCancelsTheContext)
}

func testClientDisconnectCancelsTheContext(t *testing.T, watcher func(*Server)) {
	for _, how := range []string{"Done", "AfterFunc"} {
		t.Run(how, func(t *testing.T) {
			waiting := make(chan struct{})
			cancelled := make(chan error, 1)
			_, addr := start(t, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				io.ReadAll(r.Body)
				ctx := r.Context()
				if how == "Done" {
					close(waiting)
					<-ctx.Done()
				} else {
					ended := make(chan struct{})
					context.AfterFunc(ctx, func() { close(ended) })
					close(waiting)
					<-ended
				}
				cancelled <- ctx.Err()
			}), watcher)
			rc := dial(t, addr)
			rc.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
			<-waiting
			rc.c.Close()
			select {
			case err := <-cancelled:
				if err != context.Canceled {
					t.Fatalf("Err() = %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("the request's context outlived its client")
			}
		})
	}
}

// A waiting handler whose client sends its next request (pipelining) is
// not cancelled, and the next request is served.
func TestWatchingKeepsPipelinedBytes(t *testing.T) {
	forWatchers(t, testWatchingKeepsPipelinedBytes)
}

func testWatchingKeepsPipelinedBytes(t *testing.T, watcher func(*Server)) {
	release := make(chan struct{})
	_, addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/wait" {
			select {
			case <-r.Context().Done():
				t.Error("cancelled by a pipelined request")
			case <-release:
			}
		}
		io.WriteString(w, r.URL.Path)
	}), watcher)
	rc := dial(t, addr)
	rc.send("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
	time.Sleep(50 * time.Millisecond) // not a condition: the test passes either way the race goes
	rc.send("GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
	close(release)
	if _, body := rc.read("GET"); body != "/wait" {
		t.Fatalf("first %q", body)
	}
	if _, body := rc.read("GET"); body != "/next" {
		t.Fatalf("second %q", body)
	}
}

func TestContextEndsWhenTheHandlerReturnsAndWithTheBase(t *testing.T) {
	base, cancelBase := context.WithCancelCause(context.Background())
	errShutdown := errors.New("shutting down")
	var kept atomic.Pointer[context.Context]
	inside := make(chan struct{})
	_, addr := start(t, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if r.URL.Path == "/first" {
			kept.Store(&ctx)
			return
		}
		close(inside)
		<-ctx.Done()
		if context.Cause(ctx) != errShutdown {
			t.Errorf("cause %v", context.Cause(ctx))
		}
	}), func(s *Server) { s.BaseContext = func(net.Listener) context.Context { return base } })
	rc := dial(t, addr)
	rc.send("GET /first HTTP/1.1\r\nHost: x\r\n\r\n")
	rc.read("GET")
	select { // the answer goes out first, then the context ends
	case <-(*kept.Load()).Done():
	case <-time.After(20 * time.Second):
		t.Fatal("context not cancelled after the handler returned")
	}
	if err := (*kept.Load()).Err(); err != context.Canceled {
		t.Fatalf("Err() = %v", err)
	}
	rc.send("GET /second HTTP/1.1\r\nHost: x\r\n\r\n")
	<-inside
	cancelBase(errShutdown)
	if resp, _ := rc.read("GET"); resp.StatusCode != 200 {
		t.Fatal(resp.Status)
	}
}

func TestShutdownDrainsRequestsInFlight(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	s, addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(started)
			<-release
		}
		io.WriteString(w, "done")
	}))
	idle := dial(t, addr)
	idle.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	idle.read("GET")
	busy := dial(t, addr)
	busy.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	<-started
	stopped := make(chan error, 1)
	go func() { stopped <- s.Shutdown(context.Background()) }()
	if !idle.closed() {
		t.Fatal("idle connection kept during shutdown")
	}
	select {
	case err := <-stopped:
		t.Fatalf("Shutdown returned %v with a request in flight", err)
	default:
	}
	close(release)
	resp, body := busy.read("GET")
	if body != "done" || !resp.Close {
		t.Fatalf("in-flight answer %q close=%v", body, resp.Close)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Fatal("still accepting")
	}
}

func TestShutdownGivesUpWithItsContext(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	started := make(chan struct{})
	s, addr := start(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { close(started); <-release }))
	dial(t, addr).send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Shutdown(ctx); err != context.Canceled {
		t.Fatalf("Shutdown = %v", err)
	}
}

// A panicking handler closes its connection; the server goes on.
func TestPanicClosesTheConnectionOnly(t *testing.T) {
	_, addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic(http.ErrAbortHandler)
		}
		io.WriteString(w, "ok")
	}))
	rc := dial(t, addr)
	rc.send("GET /panic HTTP/1.1\r\nHost: x\r\n\r\n")
	if !rc.closed() {
		t.Fatal("connection kept after a panic")
	}
	rc = dial(t, addr)
	rc.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, body := rc.read("GET"); body != "ok" {
		t.Fatal(body)
	}
}

// h2c with prior knowledge and Upgrade requests go to the fallback server
// with the bytes already read.
func TestHandsH2CAndUpgradesToTheFallback(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, "%s %s", r.Proto, r.URL.Path) })
	fb := &http.Server{Handler: h, Protocols: new(http.Protocols)}
	fb.Protocols.SetHTTP1(true)
	fb.Protocols.SetUnencryptedHTTP2(true)
	_, addr := start(t, h, func(s *Server) { s.Fallback = fb })
	client := &http.Client{Transport: &http.Transport{Protocols: h2cOnly()}}
	resp, err := client.Get("http://" + addr + "/h2")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "HTTP/2.0 /h2" {
		t.Fatalf("h2c: %q", b)
	}
	rc := dial(t, addr)
	rc.send("GET /up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
	if _, body := rc.read("GET"); body != "HTTP/1.1 /up" {
		t.Fatalf("upgrade request: %q", body)
	}
}

func h2cOnly() *http.Protocols {
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	return p
}

// panicListener hands out connections whose Read panics: a fault outside
// any handler.
type panicListener struct{ net.Listener }

type panicConn struct{ net.Conn }

func (panicConn) Read([]byte) (int, error) { panic("broken connection") }

func (l panicListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return panicConn{c}, nil
}

func TestPanicOutsideHandlerClosesOnlyThatConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	var mu sync.Mutex
	s := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}),
		ErrorLog: log.New(writerFunc(func(b []byte) (int, error) {
			mu.Lock()
			defer mu.Unlock()
			return logged.Write(b)
		}), "", 0)}
	served := make(chan error, 1)
	go func() { served <- s.Serve(panicListener{ln}) }()
	defer func() {
		_ = s.Close()
		<-served
	}()
	for i := 0; i < 2; i++ { // the server goes on accepting after the first
		rc := dial(t, ln.Addr().String())
		rc.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		// Closed with the request unread: EOF or a reset, never an answer.
		if b, err := rc.br.ReadByte(); err == nil {
			t.Fatalf("connection %d: got %q after the panic, want it closed", i, b)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logged.String(), "broken connection") {
		t.Errorf("panic not logged: %q", logged.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// Every answer carries the system clock's Date, remade each second: two
// answers a second and more apart carry different ones, each within a
// generous bound of the clock read around it.
func TestAnswersCarryTheCurrentDate(t *testing.T) {
	_, addr := start(t, echo)
	rc := dial(t, addr)
	date := func() time.Time {
		before := time.Now().Add(-time.Second)
		rc.send("GET /d HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, _ := rc.read("GET")
		d, err := http.ParseTime(resp.Header.Get("Date"))
		if err != nil {
			t.Fatalf("Date %q: %v", resp.Header.Get("Date"), err)
		}
		if after := time.Now().Add(time.Second); d.Before(before) || d.After(after) {
			t.Fatalf("Date %v is outside [%v, %v]", d, before, after)
		}
		return d
	}
	first := date()
	time.Sleep(1100 * time.Millisecond)
	if second := date(); !second.After(first) {
		t.Fatalf("Date stayed %v a second later (%v)", first, second)
	}
}
