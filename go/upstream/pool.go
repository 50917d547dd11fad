package upstream

import (
	"context"
	"errors"
	"sync"
	"syscall"
	"time"
)

// host is the keep-alive pool of one worker address.
type host struct {
	addr   string
	client *Client
	mu     sync.Mutex // guards idle, used and gone
	idle   []*conn    // most recently used last
	used   time.Time  // last put
	gone   bool       // dropped from the client by sweep: closes what it gets back
}

// get takes the most recently used idle connection, or returns nil. One
// idle longer than IdleTimeout is closed. One idle longer than CheckAfter
// is first checked for a close by the worker (an HTTP server closes idle
// connections after its keep-alive timeout: uvicorn's is 5s): a cheap
// non-blocking read that finds EOF saves a request from a dead connection.
// Connections used within CheckAfter skip the check; a close racing with
// the reuse is caught by Send's retry instead.
func (h *host) get(o Options) *conn {
	for {
		h.mu.Lock()
		n := len(h.idle)
		if n == 0 {
			h.mu.Unlock()
			return nil
		}
		cn := h.idle[n-1]
		h.idle[n-1] = nil
		h.idle = h.idle[:n-1]
		h.mu.Unlock()
		idle := o.Now().Sub(cn.idleAt)
		if idle > o.IdleTimeout || (idle > o.CheckAfter && !cn.alive()) {
			cn.close()
			continue
		}
		cn.recent = idle < recentIdle
		return cn
	}
}

// put returns a connection whose answer was read whole to the pool, or
// closes it when the pool is full.
func (h *host) put(cn *conn, o Options) {
	now := o.Now()
	cn.idleAt = now
	h.mu.Lock()
	h.used = now
	if !h.gone && len(h.idle) < o.MaxIdlePerHost {
		h.idle = append(h.idle, cn)
		cn = nil
	}
	h.mu.Unlock()
	if cn != nil {
		cn.close()
	}
	if h.client != nil {
		h.client.sweep(now)
	}
}

// closeExpired closes the connections idle since before now-timeout (the
// oldest are first) and reports whether the host has been unused that long.
func (h *host) closeExpired(now time.Time, timeout time.Duration) (unused bool) {
	h.mu.Lock()
	n := 0
	for n < len(h.idle) && now.Sub(h.idle[n].idleAt) > timeout {
		n++
	}
	expired := append([]*conn(nil), h.idle[:n]...)
	h.idle = append(h.idle[:0], h.idle[n:]...)
	unused = len(h.idle) == 0 && now.Sub(h.used) > timeout
	h.gone = unused
	h.mu.Unlock()
	for _, cn := range expired {
		cn.close()
	}
	return unused
}

func (h *host) closeIdle() {
	h.mu.Lock()
	idle := h.idle
	h.idle = nil
	h.mu.Unlock()
	for _, cn := range idle {
		cn.close()
	}
}

// dial opens a new connection to h.
func (c *Client) dial(ctx context.Context, h *host) (*conn, error) {
	nc, err := c.dialer.DialContext(ctx, "tcp", h.addr)
	if err != nil {
		return nil, err
	}
	return newConn(nc, h, c.opts), nil
}

// alive reports whether an idle connection is still open, with one
// non-blocking peek at the socket: nothing to read means open; EOF means
// the worker closed it; data means it is unusable (an idle HTTP/1.1
// connection has none).
func (cn *conn) alive() bool {
	if cn.br.Buffered() > 0 {
		return false
	}
	sc, ok := cn.nc.(syscall.Conn)
	if !ok {
		return true // not a socket: Send's retry covers it
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	open := false
	var b [1]byte
	err = rc.Read(func(fd uintptr) bool {
		_, _, rerr := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		open = errors.Is(rerr, syscall.EAGAIN)
		return true // never wait
	})
	return err == nil && open
}

// aLongTimeAgo is a deadline in the past: setting it makes every blocked
// and future read or write of a connection fail at once.
var aLongTimeAgo = time.Unix(1, 0)
