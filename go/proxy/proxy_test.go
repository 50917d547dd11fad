package proxy

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestCopyHeadersDropsHopByHop(t *testing.T) {
	src := http.Header{
		"Connection":        {"keep-alive, X-Secret"},
		"X-Secret":          {"s"},
		"Keep-Alive":        {"timeout=5"},
		"Transfer-Encoding": {"chunked"},
		"Content-Length":    {"12"},
		"Authorization":     {"Bearer k"},
		"X-Custom":          {"a", "b"},
	}
	dst := http.Header{}
	CopyHeaders(dst, src)
	for _, gone := range []string{"Connection", "X-Secret", "Keep-Alive", "Transfer-Encoding", "Content-Length"} {
		if _, ok := dst[gone]; ok {
			t.Errorf("%s was forwarded", gone)
		}
	}
	if dst.Get("Authorization") != "Bearer k" || len(dst["X-Custom"]) != 2 {
		t.Errorf("end-to-end headers lost: %v", dst)
	}
	src["X-Custom"][0] = "changed"
	if dst["X-Custom"][0] != "a" {
		t.Error("header values must be copied, not aliased")
	}
}

func TestIsEventStream(t *testing.T) {
	for ct, want := range map[string]bool{
		"text/event-stream":                true,
		"text/event-stream; charset=utf-8": true,
		"Text/Event-Stream":                true,
		"text/event-stream ; x=1":          true,
		"text/event-streams":               false,
		"text/event":                       false,
		"application/json":                 false,
		"":                                 false,
	} {
		if got := IsEventStream(http.Header{"Content-Type": {ct}}); got != want {
			t.Errorf("%q: %v", ct, got)
		}
	}
}

func TestWriteResponseStatesTheWorkersContentLength(t *testing.T) {
	for _, c := range []struct {
		header []string
		n      int64
		want   string
	}{
		{[]string{"5"}, 5, "5"},
		{[]string{"+5"}, 5, "5"},
		{nil, 5, "5"},
		{[]string{"7"}, 5, "5"},
	} {
		resp := &http.Response{StatusCode: 200, Header: http.Header{}, ContentLength: c.n, Body: io.NopCloser(strings.NewReader("hello"))}
		if c.header != nil {
			resp.Header["Content-Length"] = c.header
		}
		rec := httptest.NewRecorder()
		if err := WriteResponse(rec, resp, nil); err != nil {
			t.Fatal(err)
		}
		if got := rec.Header()["Content-Length"]; len(got) != 1 || got[0] != c.want || rec.Body.String() != "hello" {
			t.Errorf("worker's %q for %d: client got %q %q", c.header, c.n, got, rec.Body.String())
		}
	}
}

func TestWriteResponseTapsTheWholeBody(t *testing.T) {
	body := strings.Repeat("0123456789", 10<<10) // several copy buffers
	resp := &http.Response{StatusCode: 200, Header: http.Header{}, ContentLength: -1, Body: io.NopCloser(strings.NewReader(body))}
	var tapped strings.Builder
	firsts := 0
	d := Delivery{Tap: func(p []byte) { tapped.Write(p) }, FirstByte: func() { firsts++ }}
	rec := httptest.NewRecorder()
	if err := WriteResponse(rec, resp, &d); err != nil {
		t.Fatal(err)
	}
	if tapped.String() != body || rec.Body.String() != body || firsts != 1 || d.Bytes != int64(len(body)) {
		t.Errorf("tapped %d bytes, client got %d, counted %d, FirstByte %d times", tapped.Len(), rec.Body.Len(), d.Bytes, firsts)
	}
}

// Without a Plain sender (and for https workers) net/http sends: extra
// fields replace the client's headers of the same name, hop-by-hop ones
// are dropped, and the body arrives whole.
func TestSendOverNetHTTPReplacesHeadersWithExtraFields(t *testing.T) {
	got := make(chan *http.Request, 1)
	bodies := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r
		bodies <- string(b)
	}))
	defer srv.Close()
	p := &Proxy{Client: srv.Client()}
	in := http.Header{"X-Request-Id": {"client"}, "Connection": {"X-Secret"}, "X-Secret": {"s"}, "Accept": {"a"}}
	body := []byte(`{"text":"hi"}`)
	resp, err := p.Send(t.Context(), http.MethodPost, srv.URL+"/generate", in, body,
		[]Field{{Key: "X-Request-Id", Value: "rid"}, {Key: "X-Extra", Value: "1"}, {Key: "X-Extra", Value: "2"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	r := <-got
	if ids := r.Header["X-Request-Id"]; len(ids) != 1 || ids[0] != "rid" {
		t.Errorf("X-Request-Id %q, want only the router's", ids)
	}
	if x := r.Header["X-Extra"]; len(x) != 2 || r.Header.Get("X-Secret") != "" || r.Header.Get("Accept") != "a" {
		t.Errorf("headers %v", r.Header)
	}
	if b := <-bodies; b != string(body) {
		t.Errorf("body %q", b)
	}
}

// deadlineOnly has a deadline but a Done that never closes, as the
// router's request context: net/http must still stop at the deadline.
type deadlineOnly struct {
	context.Context
	d time.Time
}

func (c deadlineOnly) Deadline() (time.Time, bool) { return c.d, true }

func TestSendOverNetHTTPStopsAtTheDeadline(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	p := &Proxy{Client: srv.Client()}
	done := make(chan error, 1)
	go func() {
		_, err := p.Send(deadlineOnly{context.Background(), time.Now().Add(100 * time.Millisecond)}, http.MethodGet, srv.URL, nil, nil, nil)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrUpstream) {
			t.Fatalf("error %v, want ErrUpstream", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Send did not stop at the deadline")
	}
}

func BenchmarkForwarded(b *testing.B) {
	keys := []string{"Content-Type", "Authorization", "User-Agent", "Accept", "X-Request-Id", "Connection", "Content-Length", "Host"}
	conn := []string{"keep-alive"}
	for b.Loop() {
		for _, k := range keys {
			_ = Forwarded(k, conn)
		}
	}
}

// Forwarded drops the hop-by-hop headers, the transport's own and those
// the Connection header names, and keeps the rest.
func TestForwardedDropsHopByHopHeaders(t *testing.T) {
	conn := []string{"keep-alive, X-Hop-Extra", " Upgrade"}
	for _, k := range []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
		"Te", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length", "Host", "X-Hop-Extra"} {
		if Forwarded(k, conn) {
			t.Errorf("%s is forwarded", k)
		}
	}
	for _, k := range []string{"Content-Type", "Authorization", "X-Request-Id", "Accept", "Tea", "Hosts"} {
		if !Forwarded(k, conn) {
			t.Errorf("%s is not forwarded", k)
		}
	}
}
