package upstream

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"testing"
)

// FuzzAnswer feeds arbitrary bytes to the client as a worker's answer: it
// must return an answer or an error, never panic or hang.
func FuzzAnswer(f *testing.F) {
	for _, seed := range []string{
		okAnswer,
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x\r\nabc\r\n0\r\nT: v\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\nrest",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nabcde",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, answer []byte) {
		client, server := net.Pipe()
		defer client.Close()
		go func() {
			defer server.Close()
			readRequest(bufio.NewReader(server))
			_, _ = server.Write(answer)
		}()
		cn := newConn(client, &host{}, Options{}.withDefaults())
		resp, err := cn.roundTrip(context.Background(), request{method: http.MethodPost, target: "/", host: "w", body: []byte("{}")})
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
	})
}
