package h1

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sgl-project/sglang-router-go/go/mono"
	"github.com/sgl-project/sglang-router-go/go/rawio"
)

// Connection states, for Shutdown: an idle connection waits for a request
// and may be closed; an active one is reading or serving one.
const (
	stateActive int32 = iota
	stateIdle
	stateClosed
)

// maxDiscard is how much of a body the handler left unread the server
// reads and drops to keep the connection; with more, it closes it.
const maxDiscard = 256 << 10

// conn is one client connection, served by its own goroutine.
type conn struct {
	srv   *Server
	nc    net.Conn
	rw    io.ReadWriter // nc's reads and writes, raw where they can be (see rawio)
	in    inbuf
	state atomic.Int32

	req      *http.Request // carries ctx; reset from tmpl per request
	tmpl     http.Request
	url      url.URL
	header   http.Header
	vals     []string
	ctx      reqCtx
	body     body
	res      response
	hd       head
	closeNow bool         // close after the current request
	rd       readDeadline // every read from nc goes through c.Read

	// The disconnect watcher: it reads into the buffer's free tail while
	// the handler waits; see startWatch and stopWatch. watchFn is c.watch,
	// bound once.
	watchFn   func()
	watchDone chan struct{}
	// pending: the watcher of the last request still reads; it is the
	// wait for the next request (see afterWatch).
	pending bool
	// turn decides who serves on once both the connection's goroutine
	// and the watcher are done: the second to add to it (see afterWatch).
	turn       atomic.Int32
	watchN     int
	watchErr   error
	aborting   atomic.Bool
	remoteAddr string

	// hup, when set, replaces the watcher: the server's hang-up poller
	// holds the socket (raw, descriptor fd) from accept to close.
	hup *hupPoller
	raw syscall.RawConn
	fd  int32
}

func newConn(s *Server, nc net.Conn, base context.Context) *conn {
	c := &conn{srv: s, nc: nc, rw: rawio.Wrap(nc), header: make(http.Header, 8), vals: make([]string, 0, 16), remoteAddr: nc.RemoteAddr().String()}
	c.in = inbuf{nc: c, buf: *smallBufs.Get().(*[]byte)}
	c.ctx = reqCtx{base: base, c: c}
	c.req = (&http.Request{}).WithContext(&c.ctx)
	c.tmpl = *c.req
	c.res.c = c
	c.watchFn = c.watch
	c.state.Store(stateIdle)
	return c
}

// serve reads and serves requests until the connection ends.
func (c *conn) serve() { c.loop(true) }

// loop serves requests until the connection ends, or until the watcher
// of the last request takes over (see afterWatch).
func (c *conn) loop(first bool) {
	defer c.survive()
	for ; ; first = false {
		if !c.readRequest(first) {
			c.close()
			return
		}
		c.serveOne()
		c.state.Store(stateIdle)
		if c.closeNow || c.srv.shutting.Load() {
			c.close()
			return
		}
		if !c.pending {
			c.in.shrink()
		} else if !c.afterWatch() {
			return
		}
	}
}

// survive ends the connection when something outside a handler panicked
// on it (the parser, or the net.Conn itself): the router runs inside a
// user's Python process, which a panic would kill. Only the socket is
// closed and forgotten: the connection's state may be half-changed, so
// nothing else of it is touched.
func (c *conn) survive() {
	p := recover()
	if p == nil {
		return
	}
	buf := make([]byte, 64<<10)
	buf = buf[:runtime.Stack(buf, false)]
	c.srv.logf("h1: panic on connection from %s: %v\n%s", c.remoteAddr, p, buf)
	c.forget()
	c.state.Store(stateClosed)
	if c.nc != nil {
		_ = c.nc.Close()
	}
}

// forget takes the connection off the server's books before it closes.
func (c *conn) forget() {
	c.srv.remove(c)
	if c.hup != nil {
		c.hup.forget(c)
	}
}

func (c *conn) close() {
	c.forget()
	c.state.Store(stateClosed)
	if c.nc != nil {
		_ = c.nc.Close()
	}
	if c.pending {
		c.pending = false
		c.stopWatch() // it reads into the buffer
	}
	c.in.release()
}

// readRequest waits for and parses the next request's headers; false: the
// connection is done (closed, timed out, refused or handed over).
func (c *conn) readRequest(first bool) bool {
	if c.in.buffered() == 0 {
		if !c.waitFirstBytes(first) {
			return false
		}
	} else if !c.state.CompareAndSwap(stateIdle, stateActive) {
		return false
	}
	end, err := c.readHead(first)
	if err == nil {
		c.hd, c.vals, err = c.parse(end)
	}
	if err == nil {
		return c.setReadDeadlineAt(time.Time{}) == nil
	}
	return c.readFailed(err)
}

// readFailed answers a request that could not be read, if it deserves an
// answer, or hands it over; it reports whether the connection goes on.
func (c *conn) readFailed(err error) bool {
	var re *reqError
	switch {
	case err == errHandOver:
		return c.handOver()
	case errors.As(err, &re):
		c.refuse(re)
		return false
	case errors.Is(err, errHeadersTooLarge):
		c.refuse(&reqError{http.StatusRequestHeaderFieldsTooLarge, "request headers too large"})
		return false
	}
	return false // timeout, reset, EOF: nothing to answer
}

// waitFirstBytes waits, idle, for a request's first bytes: up to the
// header timeout on a new connection, the idle timeout on a kept-alive one.
func (c *conn) waitFirstBytes(first bool) bool {
	c.in.r, c.in.w = 0, 0
	d := c.srv.IdleTimeout
	if first {
		d = c.srv.ReadHeaderTimeout
	}
	if c.setReadDeadline(d) != nil {
		return false
	}
	if c.srv.shutting.Load() || c.in.fill(len(c.in.buf)) != nil {
		return false
	}
	return c.state.CompareAndSwap(stateIdle, stateActive)
}

func (c *conn) setReadDeadline(d time.Duration) error {
	if d <= 0 {
		return c.setReadDeadlineAt(time.Time{})
	}
	return c.setReadDeadlineAt(mono.Now().Add(d))
}

// readHead reads until the header block is buffered and returns its
// length. Blank lines before a request are skipped.
func (c *conn) readHead(first bool) (int, error) {
	armed := first
	for from := 0; ; {
		for c.in.buffered() > 0 && (c.in.buf[c.in.r] == '\r' || c.in.buf[c.in.r] == '\n') && from == 0 {
			c.in.r++
		}
		end, next := c.in.headerEnd(from)
		if end > 0 {
			if end > c.srv.maxHeaderBytes() {
				return 0, errHeadersTooLarge
			}
			return end, nil
		}
		from = next
		if !armed {
			armed = true
			if err := c.setReadDeadline(c.srv.ReadHeaderTimeout); err != nil {
				return 0, err
			}
		}
		if err := c.in.fill(c.srv.maxHeaderBytes()); err != nil {
			return 0, err
		}
	}
}

// parse parses the buffered header block of end bytes and readies the
// request, its body and the response.
func (c *conn) parse(end int) (head, []string, error) {
	block := c.in.buf[c.in.r : c.in.r+end]
	*c.req = c.tmpl
	hd, vals, err := parseHead(block, c.req, &c.url, c.header, c.vals)
	if err != nil {
		return hd, vals, err
	}
	c.in.r += end
	r := c.req
	r.RemoteAddr, r.ContentLength = c.remoteAddr, hd.contentLength
	switch {
	case hd.chunked:
		r.ContentLength, r.TransferEncoding = -1, []string{"chunked"}
		r.Body = &c.body
	case hd.contentLength > 0:
		r.Body = &c.body
	default:
		r.ContentLength, r.Body = 0, http.NoBody
	}
	c.body.reset(c, hd)
	return hd, vals, nil
}

// handOver gives the connection and every byte read from it to the
// fallback server.
func (c *conn) handOver() bool {
	read := append([]byte(nil), c.in.buf[c.in.r:c.in.w]...)
	c.srv.remove(c)
	if c.hup != nil {
		c.hup.release(c)
		c.hup = nil
	}
	if c.srv.handOver(c.nc, read) {
		_ = c.nc.SetReadDeadline(time.Time{}) // the fallback reads nc itself
		c.nc = nil
		return false
	}
	c.refuse(&reqError{http.StatusNotImplemented, "unsupported request"})
	return false
}

// refuse answers a request the server does not serve, then the connection
// closes.
func (c *conn) refuse(e *reqError) {
	text := fmt.Sprintf("%d %s", e.status, http.StatusText(e.status))
	msg := fmt.Sprintf("HTTP/1.1 %s\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n%s: %s", text, text, e.msg)
	_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	if _, err := io.WriteString(c.nc, msg); err == nil {
		c.lingerClose()
	}
}

// lingerClose ends the connection's sending side and reads what the
// client still sends, for a while, before the connection closes: closing
// with unread bytes would reset it, and the client could lose the answer.
func (c *conn) lingerClose() {
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		_ = c.setReadDeadlineAt(time.Now().Add(500 * time.Millisecond))
		_, _ = io.Copy(io.Discard, io.LimitReader(c, maxDiscard))
	}
}

// serveOne runs the handler for the parsed request and completes the
// answer. A panic in the handler closes the connection (after logging it,
// unless it is http.ErrAbortHandler).
func (c *conn) serveOne() {
	c.ctx.begin(c.body.eof)
	c.res.reset(c.req)
	defer func() {
		if p := recover(); p != nil {
			c.closeNow = true
			c.endRequest()
			if p != http.ErrAbortHandler {
				buf := make([]byte, 64<<10)
				buf = buf[:runtime.Stack(buf, false)]
				c.srv.logf("h1: panic serving %s: %v\n%s", c.remoteAddr, p, buf)
			}
		}
	}()
	c.srv.Handler.ServeHTTP(&c.res, c.req)
	c.res.finish()          // first: the client need not wait for the context's end
	c.pending = c.ctx.end() // the watcher goes on reading: see afterWatch
	c.finishBody()
}

// endRequest stops the watcher and cancels the request's context.
func (c *conn) endRequest() {
	if c.ctx.end() {
		c.stopWatch()
	}
}

// finishBody reads what the handler left of the body, up to maxDiscard
// within the header timeout, so the connection can serve another request;
// otherwise it is closed.
func (c *conn) finishBody() {
	if c.closeNow || c.body.eof {
		return
	}
	if c.body.leftUnread() {
		c.closeNow = true
		return
	}
	if c.setReadDeadline(c.srv.ReadHeaderTimeout) != nil {
		c.closeNow = true
		return
	}
	c.body.closed = false
	n, err := io.Copy(io.Discard, io.LimitReader(&c.body, maxDiscard))
	if err != nil || n == maxDiscard || !c.body.eof {
		c.closeNow = true
	}
}

// writeContinue sends "100 Continue": the handler reads the body.
func (c *conn) writeContinue() error {
	_, err := io.WriteString(c.nc, "HTTP/1.1 100 Continue\r\n\r\n")
	return err
}

// bodyDone: the body was read whole.
func (c *conn) bodyDone() { c.ctx.bodyDone() }
