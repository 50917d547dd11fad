package app

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sgl-project/sglang-router-go/go/worker/workertest"
)

func TestHeadersOver64KiBGet431(t *testing.T) {
	w := workertest.New(t, "w0")
	a, _ := startApp(t, testConfig(w.URL))
	req, _ := http.NewRequest(http.MethodGet, "http://"+a.Addr()+"/liveness", nil)
	req.Header.Set("X-Padding", strings.Repeat("a", 70<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status %d, want 431", resp.StatusCode)
	}
}

func TestHeaderReadTimeoutClosesTheConnection(t *testing.T) {
	w := workertest.New(t, "w0")
	cfg := testConfig(w.URL)
	cfg.HeaderReadTimeoutSecs = 1
	a, _ := startApp(t, cfg)
	conn, err := net.Dial("tcp", a.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /liveness HTTP/1.1\r\nHost: x\r\n"); err != nil { // never finished
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second)) // generous: the router's is 1 s
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("unfinished headers got an answer %d", resp.StatusCode)
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the router kept a connection with unfinished headers open for 30 s")
	}
}
