package h1

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"testing"
)

// FuzzRequest feeds arbitrary bytes to the request parser and the body
// reader: they must never panic, and what they accept must be consistent
// (one framing, canonical header names, a body of the declared length).
func FuzzRequest(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /g?a=b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
		"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;e\r\nhello\r\n0\r\nT: v\r\n\r\n",
		"POST / HTTP/1.0\r\ncontent-length: 3\r\nconnection: keep-alive\r\n\r\nabc",
		"GET /%41b HTTP/1.1\r\nHost: [::1]:80\r\n\r\n",
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &conn{}
		c.ctx.c = c
		c.in = inbuf{nc: bytes.NewReader(data), buf: make([]byte, smallBuf)}
		end := 0
		for from := 0; end == 0; {
			end, from = c.in.headerEnd(from)
			if end == 0 && c.in.fill(1<<20) != nil {
				return
			}
		}
		var r http.Request
		var u url.URL
		hd, _, err := parseHead(c.in.buf[c.in.r:c.in.r+end], &r, &u, http.Header{}, nil)
		if err != nil {
			return
		}
		if hd.chunked && hd.contentLength >= 0 {
			t.Fatal("both framings accepted")
		}
		for k := range r.Header {
			if canonical(k) != k {
				t.Fatalf("header name %q not canonical", k)
			}
		}
		c.in.r += end
		c.body.reset(c, hd)
		b, err := io.ReadAll(&c.body)
		if err == nil && !hd.chunked && int64(len(b)) != max(hd.contentLength, 0) {
			t.Fatalf("body of %d bytes, declared %d", len(b), hd.contentLength)
		}
	})
}
