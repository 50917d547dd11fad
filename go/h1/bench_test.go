package h1

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
)

// BenchmarkServer is one small POST on a kept-alive loopback connection,
// answered by a handler that reads the body, registers a cancellation
// hook as the router's upstream client does, and writes a small JSON
// answer: the server's own cost, h1 against net/http's.
func BenchmarkServer(b *testing.B) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		stop := context.AfterFunc(r.Context(), func() {})
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"text":"ok"}`)
		stop()
	})
	for _, c := range []struct {
		name  string
		serve func(net.Listener) io.Closer
	}{
		{"h1", func(ln net.Listener) io.Closer { s := &Server{Handler: h}; go s.Serve(ln); return s }},
		{"net_http", func(ln net.Listener) io.Closer { s := &http.Server{Handler: h}; go s.Serve(ln); return s }},
	} {
		b.Run(c.name, func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer c.serve(ln).Close()
			nc, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer nc.Close()
			body := `{"text":"What is the capital of France?"}`
			req := []byte("POST /generate HTTP/1.1\r\nHost: r\r\nContent-Type: application/json\r\nContent-Length: " +
				strconv.Itoa(len(body)) + "\r\n\r\n" + body)
			br := bufio.NewReader(nc)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := nc.Write(req); err != nil {
					b.Fatal(err)
				}
				if err := skipAnswer(br); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// skipAnswer reads one answer with a Content-Length body.
func skipAnswer(br *bufio.Reader) error {
	n := 0
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 {
			break
		}
		if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
			for _, c := range bytes.TrimSpace(v) {
				n = n*10 + int(c-'0')
			}
		}
	}
	_, err := br.Discard(n)
	return err
}
