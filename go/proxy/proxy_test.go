package proxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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
