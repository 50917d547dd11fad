package h1

import (
	"testing"
	"time"
)

// On Linux every TCP connection is in the server's epoll set from accept
// until it closes.
func TestPollerHoldsConnectionsUntilTheyClose(t *testing.T) {
	s, addr := start(t, echo)
	clients := []*rawConn{dial(t, addr), dial(t, addr), dial(t, addr)}
	for _, rc := range clients {
		rc.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		rc.read("GET")
	}
	held := func() int {
		p := s.poller()
		if p == nil {
			t.Fatal("no hang-up poller")
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.conns)
	}
	if n := held(); n != 3 {
		t.Fatalf("%d connections in the set, want 3", n)
	}
	clients[0].c.Close()
	for deadline := time.Now().Add(20 * time.Second); held() != 2; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections in the set after one closed, want 2", held())
		}
	}
}
