// Package h1 is a small HTTP/1.1 server for the router's request path. It
// serves an unchanged http.Handler with one goroutine per connection and
// reuses, per connection, the buffers, the *http.Request, its Header and
// URL, the request's context and the ResponseWriter: a request costs a few
// allocations where net/http's server makes about twenty.
//
// Contract for handlers: the *http.Request, its Header and URL, its
// context and the ResponseWriter belong to the connection and are reset
// for its next request; a handler must not use them after it returned
// (strings taken from them stay valid). A request's context is cancelled
// when the client goes away while the handler waits (once the body has
// been read), when the server's base context ends, and when the handler
// returns.
//
// What it does not handle goes, per connection, to a net/http Server
// (Fallback) with the bytes already read: h2c prior knowledge, Upgrade
// and CONNECT requests, request targets other than a path, protocols
// other than HTTP/1.0 and 1.1.
package h1

import (
	"context"
	"errors"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Server serves HTTP/1.x on listeners. Set its fields before Serve; it is
// safe for concurrent use afterwards.
type Server struct {
	Handler http.Handler
	// Fallback serves the connections this server hands over (see the
	// package comment); its Handler is normally the same. Nil: such
	// requests get 501 (505 for other protocols) and the connection closes.
	Fallback *http.Server
	// ReadHeaderTimeout bounds reading a request's headers (from the
	// connection's start for its first request, from the first byte for
	// later ones); past it the connection closes. 0: no bound.
	ReadHeaderTimeout time.Duration
	// IdleTimeout bounds waiting for the next request of a kept-alive
	// connection. 0: no bound.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's line and headers (plus 4 KiB, as
	// net/http allows); larger ones get 431. 0: 1 MiB.
	MaxHeaderBytes int
	// BaseContext returns the parent of every request's context; its end
	// cancels the requests in flight (context.Cause reports its cause).
	BaseContext func(net.Listener) context.Context
	ErrorLog    *log.Logger

	mu        sync.Mutex // guards the fields below
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	handoff   *handoffListener
	fallbackE chan error // the fallback's Serve result

	shutting atomic.Bool
	date     atomic.Pointer[dateLine]

	// The hang-up poller (hup.go), made on first use; noHup, for tests,
	// keeps every connection on the goroutine watcher.
	hup      *hupPoller
	hupTried bool
	noHup    bool
}

// aLongTimeAgo is a deadline in the past: it interrupts a blocked read.
var aLongTimeAgo = time.Unix(1, 0)

// Serve accepts connections on ln until Shutdown or Close, and returns
// http.ErrServerClosed then (any other error: the listener failed).
func (s *Server) Serve(ln net.Listener) error {
	if !s.track(ln) {
		return http.ErrServerClosed
	}
	defer s.untrack(ln)
	base := context.Background()
	if s.BaseContext != nil {
		base = s.BaseContext(ln)
	}
	// Not stopped when Serve returns: the requests in flight after a
	// Shutdown are still cancelled by base's end.
	context.AfterFunc(base, func() { s.cancelAll(base) })
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.shutting.Load() {
				return http.ErrServerClosed
			}
			if temporary(err) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.logf("h1: accept error: %v; retrying in %v", err, backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		c := newConn(s, nc, base)
		if !s.add(c) {
			_ = nc.Close()
			return http.ErrServerClosed
		}
		c.watchHangups()
		go c.serve()
	}
}

// temporary reports whether an accept error is worth retrying (EMFILE
// and the like), as net/http's server does.
func temporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

func (s *Server) track(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutting.Load() {
		return false
	}
	if s.listeners == nil {
		s.listeners = map[net.Listener]struct{}{}
		s.conns = map[*conn]struct{}{}
	}
	s.listeners[ln] = struct{}{}
	if s.handoff == nil && s.Fallback != nil {
		s.handoff = newHandoffListener(ln.Addr())
		s.fallbackE = make(chan error, 1)
		go func() { s.fallbackE <- s.Fallback.Serve(s.handoff) }()
	}
	return true
}

func (s *Server) untrack(ln net.Listener) {
	s.mu.Lock()
	delete(s.listeners, ln)
	s.mu.Unlock()
}

func (s *Server) add(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutting.Load() {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) remove(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// handOver gives nc, with the bytes already read from it, to the fallback
// server. It reports false when there is none (or it stopped).
func (s *Server) handOver(nc net.Conn, read []byte) bool {
	s.mu.Lock()
	h := s.handoff
	s.mu.Unlock()
	return h != nil && h.give(&prefixedConn{Conn: nc, pre: read})
}

// cancelAll cancels the context of every request in flight: base ended.
func (s *Server) cancelAll(base context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.ctx.cancel(base.Err())
	}
}

// Shutdown stops accepting, closes idle connections, and waits until every
// connection finished its request in flight and closed, or until ctx ends
// (then it returns ctx's error; Close ends the rest). The fallback server
// is shut down alike.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutting.Store(true)
	s.closeListeners()
	fallbackDone := make(chan error, 1)
	if s.Fallback != nil {
		go func() { fallbackDone <- s.Fallback.Shutdown(ctx) }()
	} else {
		fallbackDone <- nil
	}
	wait := time.Millisecond
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		if s.closeIdle() == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			wait = min(2*wait, 100*time.Millisecond)
			timer.Reset(wait)
		}
	}
	s.closeHangups() // every connection closed
	select {
	case err := <-fallbackDone:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close closes the listeners and every connection at once, cutting the
// requests in flight, and closes the fallback server.
func (s *Server) Close() error {
	s.shutting.Store(true)
	s.closeListeners()
	s.mu.Lock()
	for c := range s.conns {
		c.ctx.cancel(context.Canceled) // a closed socket tells the poller nothing
		_ = c.nc.Close()
	}
	s.mu.Unlock()
	s.closeHangups()
	if s.Fallback != nil {
		return s.Fallback.Close()
	}
	return nil
}

func (s *Server) closeListeners() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ln := range s.listeners {
		_ = ln.Close()
	}
	if s.handoff != nil {
		s.handoff.close()
	}
}

// closeIdle closes the connections that wait for a request and returns how
// many connections remain.
func (s *Server) closeIdle() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.state.CompareAndSwap(stateIdle, stateClosed) {
			_ = c.nc.Close()
		}
	}
	return len(s.conns)
}

func (s *Server) logf(format string, args ...any) {
	if s.ErrorLog != nil {
		s.ErrorLog.Printf(format, args...)
	} else {
		log.Printf(format, args...)
	}
}

func (s *Server) maxHeaderBytes() int {
	if s.MaxHeaderBytes > 0 {
		return s.MaxHeaderBytes + 4096
	}
	return 1<<20 + 4096
}
