package proxy

import (
	"net/http"
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
		"application/json":                 false,
		"":                                 false,
	} {
		if got := IsEventStream(http.Header{"Content-Type": {ct}}); got != want {
			t.Errorf("%q: %v", ct, got)
		}
	}
}
