package upstream

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// rawServer accepts connections on loopback and runs serve on each; it
// counts them. serve owns the connection and closes it when done.
type rawServer struct {
	url      string
	accepted atomic.Int32
	wg       sync.WaitGroup
}

func newRawServer(t *testing.T, serve func(c net.Conn, br *bufio.Reader)) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{url: "http://" + ln.Addr().String()}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				serve(c, bufio.NewReader(c))
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

// readRequest reads one request (head and Content-Length body) and
// returns its head lines and body; ok is false when the connection ended.
func readRequest(br *bufio.Reader) (head []string, body []byte, ok bool) {
	n := 0
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, nil, false
		}
		if line == "\r\n" {
			break
		}
		line = line[:len(line)-2]
		head = append(head, line)
		if v, found := bytes.CutPrefix([]byte(line), []byte("Content-Length: ")); found {
			n, _ = strconv.Atoi(string(v))
		}
	}
	body = make([]byte, n)
	if _, err := io.ReadFull(br, body); err != nil {
		return nil, nil, false
	}
	return head, body, true
}

// answerEach answers every request of a connection with resp.
func answerEach(resp string) func(net.Conn, *bufio.Reader) {
	return func(c net.Conn, br *bufio.Reader) {
		for {
			if _, _, ok := readRequest(br); !ok {
				return
			}
			if _, err := io.WriteString(c, resp); err != nil {
				return
			}
		}
	}
}

const okAnswer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}"

// fakeClock is an injected clock for the idle bookkeeping.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// readAll reads resp's body whole and closes it.
func readAll(t *testing.T, body io.ReadCloser) string {
	t.Helper()
	b, err := io.ReadAll(body)
	body.Close()
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return string(b)
}

// idle is how many connections to url's host the client keeps.
func (c *Client) idle(url string) int {
	addr, _, _, _ := splitURL(url)
	h := c.host(addr)
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.idle)
}

// newClient is New whose idle connections are closed when the test ends
// (before the servers' cleanups wait for their connections).
func newClient(t *testing.T, o Options) *Client {
	c := New(o)
	t.Cleanup(c.CloseIdleConnections)
	return c
}
