// Package upstream is the router's HTTP/1.1 client for plain-http workers.
// It writes a request and reads its answer on the caller's goroutine, over
// a keep-alive pool per worker: no writer and reader goroutines per
// connection, no channel hand-offs, and no per-request copy of the
// headers. (net/http's Transport spends most of a small request's CPU on
// exactly those; the router keeps it for https workers and admin calls.)
//
// Contract, as proxy.Sender: the caller owns the response and closes its
// body; the connection returns to the pool when the body was read to its
// end. Cancelling the context (client gone, router deadline) aborts the
// exchange at once, in the middle of a read or a write, and the connection
// is then closed, never reused.
package upstream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sgl-project/sglang-router-go/go/mono"
	"github.com/sgl-project/sglang-router-go/go/proxy"
)

// Options tune a Client; zero fields take the defaults.
type Options struct {
	DialTimeout time.Duration // default 5s
	// MaxIdlePerHost bounds the idle connections kept per worker (default
	// 512); a connection freed beyond it is closed.
	MaxIdlePerHost int
	// IdleTimeout closes a connection idle for longer instead of reusing it
	// (default 90s).
	IdleTimeout time.Duration
	// CheckAfter: a connection idle for longer is checked for a close by
	// the worker before it is reused (default 1s; see host.get).
	CheckAfter time.Duration
	// Now is the clock of the idle bookkeeping (default mono.Now).
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.DialTimeout <= 0 {
		o.DialTimeout = 5 * time.Second
	}
	if o.MaxIdlePerHost <= 0 {
		o.MaxIdlePerHost = 512
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 90 * time.Second
	}
	if o.CheckAfter <= 0 {
		o.CheckAfter = time.Second
	}
	if o.Now == nil {
		o.Now = mono.Now
	}
	return o
}

// Client sends requests to http:// workers. It is safe for concurrent use.
type Client struct {
	opts   Options
	dialer net.Dialer
	mu     sync.RWMutex     // guards hosts
	hosts  map[string]*host // by host:port; pruned by sweep
	// nextSweep is when (UnixNano) the next sweep may run; see sweep.
	nextSweep atomic.Int64
}

// New returns a Client.
func New(o Options) *Client {
	o = o.withDefaults()
	return &Client{opts: o, dialer: net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second},
		hosts: map[string]*host{}}
}

// errUnsupported: the client speaks plain http only.
var errUnsupported = errors.New("upstream client: only http:// URLs are supported")

// Send issues method url with body, the client's headers in (hop-by-hop
// ones left out, as proxy.CopyHeaders does) and extra (which replace
// headers of in with the same key). A failure to get an answer is wrapped
// in proxy.ErrUpstream; if ctx ended, ctx's error is returned instead.
// body is written before Send returns and not referenced after.
//
// A pooled connection that fails before a byte of the answer arrived is
// discarded and the request sent again on another one: the worker closed
// it while it was idle (its keep-alive timeout), so the request never
// reached it. A fresh connection's failure is returned.
func (c *Client) Send(ctx context.Context, method, url string, in http.Header, body []byte, extra []proxy.Field) (*http.Response, error) {
	addr, authority, target, ok := splitURL(url)
	if !ok {
		return nil, fmt.Errorf("%w: %s: %v", proxy.ErrUpstream, url, errUnsupported)
	}
	h := c.host(addr)
	for {
		cn := h.get(c.opts)
		reused := cn != nil
		if !reused {
			var err error
			if cn, err = c.dial(ctx, h); err != nil {
				return nil, c.failure(ctx, err)
			}
		}
		resp, err := cn.roundTrip(ctx, request{method: method, target: target, host: authority, in: in, body: body, extra: extra})
		if err == nil {
			return resp, nil
		}
		cn.close()
		if ctx.Err() != nil || !reused || !errors.Is(err, errStale) {
			return nil, c.failure(ctx, err)
		}
	}
}

// failure is Send's error for err: ctx's if it ended, else ErrUpstream.
func (c *Client) failure(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	return fmt.Errorf("%w: %v", proxy.ErrUpstream, err)
}

// CloseIdleConnections closes every pooled connection (at shutdown).
func (c *Client) CloseIdleConnections() {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, h := range c.hosts {
		h.closeIdle()
	}
}

// host returns the pool of addr, creating it on first use.
func (c *Client) host(addr string) *host {
	c.mu.RLock()
	h := c.hosts[addr]
	c.mu.RUnlock()
	if h != nil {
		return h
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if h = c.hosts[addr]; h == nil {
		h = &host{addr: addr, client: c}
		c.hosts[addr] = h
	}
	return h
}

// splitURL splits http://host:port/path?query into the address to dial
// (port 80 when none is given), the authority as written (the Host header)
// and the request target ("/" when empty).
func splitURL(url string) (addr, authority, target string, ok bool) {
	rest, ok := strings.CutPrefix(url, "http://")
	if !ok {
		return "", "", "", false
	}
	i := strings.IndexAny(rest, "/?")
	if i < 0 {
		authority, target = rest, "/"
	} else {
		authority, target = rest[:i], rest[i:]
		if target[0] == '?' {
			target = "/" + target
		}
	}
	if authority == "" || strings.ContainsAny(authority, "@ \r\n") {
		return "", "", "", false
	}
	addr = authority
	if _, port, err := net.SplitHostPort(authority); err != nil || port == "" {
		addr = net.JoinHostPort(strings.Trim(strings.TrimSuffix(authority, ":"), "[]"), "80")
	}
	return addr, authority, target, true
}

// sweep closes the connections idle for longer than IdleTimeout on every
// host, and forgets hosts left without any: a worker that went away (a
// rescheduled pod has a new address) leaves neither open descriptors nor
// an entry behind. It runs from put, at most once per IdleTimeout/4, so it
// needs no goroutine of its own.
func (c *Client) sweep(now time.Time) {
	next := c.nextSweep.Load()
	if now.UnixNano() < next || !c.nextSweep.CompareAndSwap(next, now.Add(c.opts.IdleTimeout/4).UnixNano()) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for addr, h := range c.hosts {
		if h.closeExpired(now, c.opts.IdleTimeout) {
			delete(c.hosts, addr)
		}
	}
}
