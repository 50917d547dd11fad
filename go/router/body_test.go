package router

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawRequest opens a connection to the fixture and sends a POST /generate
// announcing contentLength bytes, followed by the first sent bytes of body.
func (f *fixture) rawRequest(contentLength int, sent string) net.Conn {
	f.t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(f.srv.URL, "http://"))
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", contentLength, sent)
	return conn
}

func TestSlowBodyGets408(t *testing.T) {
	opts := testOptions()
	opts.BodyReadTimeout = 100 * time.Millisecond
	f := newFixture(t, opts, "w0")
	conn := f.rawRequest(1000, `{"text":"`)
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), `"type":"timeout"`) {
		t.Fatalf("got %d %s, want 408 with a timeout error", resp.StatusCode, body)
	}
	if n := len(f.workers[0].Requests()); n != 0 {
		t.Errorf("worker got %d requests from a body that never arrived", n)
	}
}

func TestBodyBudgetCountsArrivedBytesAndRefusesPastIt(t *testing.T) {
	opts := testOptions()
	opts.MaxBufferedBody = 2 * chunkSize
	opts.MaxPayloadSize = 512 << 20
	f := newFixture(t, opts, "w0")
	// Announcing far more than the budget reserves only what arrived.
	hung := f.rawRequest(256<<20, "")
	waitFor(t, "one chunk reserved", func() bool { return f.rt.bodies.used.Load() == chunkSize })
	hung2 := f.rawRequest(256<<20, strings.Repeat("a", chunkSize+1))
	resp, err := http.ReadResponse(bufio.NewReader(hung2), nil)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("second body past the budget: %v %v, want 429", resp, err)
	}
	if got := f.rt.bodies.used.Load(); got != chunkSize {
		t.Fatalf("refused body kept %d bytes reserved; only the first connection's chunk should remain", got)
	}
	hung.Close()
	waitFor(t, "budget returned", func() bool { return f.rt.bodies.used.Load() == 0 })
	if resp, body := f.do("POST", "/generate", `{"text":"a"}`); resp.StatusCode != 200 {
		t.Fatalf("good request after the budget freed: %d %s", resp.StatusCode, body)
	}
	waitFor(t, "budget returned after a good request", func() bool { return f.rt.bodies.used.Load() == 0 })
}

func TestBodyReadKeepsBytesAcrossChunks(t *testing.T) {
	f := newFixture(t, testOptions(), "w0")
	for _, n := range []int{0, 1, chunkSize - 12, chunkSize - 11, 3*chunkSize + 7} {
		body := `{"text":"` + strings.Repeat("x", n) + `"}`
		if resp, msg := f.do("POST", "/generate", body); resp.StatusCode != 200 {
			t.Fatalf("%d bytes: %d %s", len(body), resp.StatusCode, msg)
		}
		reqs := f.workers[0].Requests()
		if got := reqs[len(reqs)-1].Body; string(got) != body {
			t.Fatalf("%d bytes: worker got %d bytes, not the client's", len(body), len(got))
		}
	}
}

func TestChunkedBodyPastLimitIs413(t *testing.T) {
	opts := testOptions()
	opts.MaxPayloadSize = chunkSize
	f := newFixture(t, opts, "w0")
	req, _ := http.NewRequest("POST", f.srv.URL+"/generate", io.MultiReader(strings.NewReader(`{"text":"`), strings.NewReader(strings.Repeat("a", 2*chunkSize))))
	req.ContentLength = -1 // chunked: the limit must hold without a Content-Length
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", resp.StatusCode)
	}
}

func TestRequestIDMustBeShortPrintableASCII(t *testing.T) {
	f := newFixture(t, testOptions(), "w0")
	cases := []struct {
		name, id string
		kept     bool
	}{
		{"128 chars kept", strings.Repeat("a", 128), true},
		{"129 chars replaced", strings.Repeat("a", 129), false},
		{"500 KB replaced", strings.Repeat("b", 500<<10), false},
		{"tab replaced", "abc\tdef", false},
		{"non-ascii replaced", "abc\u00e9", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, _ := f.do("POST", "/generate", `{"text":"a"}`, "X-Correlation-Id", c.id)
			got := resp.Header.Get("X-Request-Id")
			if (got == c.id) != c.kept || got == "" || len(got) > maxRequestIDLen {
				t.Fatalf("id %.20q... echoed as %.20q (len %d), kept=%v wanted", c.id, got, len(got), c.kept)
			}
		})
	}
}
