package upstream

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/sgl-project/sglang-router-go/go/proxy"
	"github.com/sgl-project/sglang-router-go/go/rawio"
)

// conn is one keep-alive connection to a worker. It is used by one
// request at a time: from host.get (or dial) until its answer's body is
// read whole (back to the pool) or closed early (closed).
type conn struct {
	nc     net.Conn
	rw     io.ReadWriter // nc's reads and writes, raw where they can be (see rawio)
	br     *bufio.Reader
	wbuf   []byte // the request head being written, reused
	hbuf   []byte // the answer's header lines, reused (see readHeaders)
	spans  []span // where each header is in hbuf, reused
	host   *host
	opts   Options
	idleAt time.Time
	// recent: new, or idle for less than recentIdle before this request;
	// only then is the request written by the answer's first read.
	recent bool
	// stop cancels the abort registered on the request's context (see
	// roundTrip); false means the abort ran and the connection is spoilt.
	stop  func() bool
	abort func() // cn.abortIO, bound once
}

// readBufSize: answers are small JSON or SSE events; large ones stream
// through (bufio reads straight into a caller's buffer that is as large).
const readBufSize = 16 << 10

// inlineBody: bodies up to this size are copied behind the head and sent
// with one write; larger ones go in one writev without the copy.
const inlineBody = 16 << 10

// keptBuf bounds the buffers a pooled connection keeps for the next
// request: one larger (a huge header set) is dropped after use, so idle
// connections hold at most a few tens of KB each.
const keptBuf = 64 << 10

// keep returns b for reuse, or nil when it grew beyond keptBuf.
func keep[T any](b []T, size int) []T {
	if cap(b)*size > keptBuf {
		return nil
	}
	return b
}

func newConn(nc net.Conn, h *host, o Options) *conn {
	rw := rawio.Wrap(nc)
	cn := &conn{nc: nc, rw: rw, br: bufio.NewReaderSize(rw, readBufSize), host: h, opts: o, recent: true}
	cn.abort = cn.abortIO
	return cn
}

// abortIO makes the connection's blocked and future reads and writes fail
// at once; it runs when the request's context ends.
func (cn *conn) abortIO() { _ = cn.nc.SetDeadline(aLongTimeAgo) }

func (cn *conn) close() { _ = cn.nc.Close() }

// request is what roundTrip writes.
type request struct {
	method, target, host string
	in                   http.Header
	extra                []proxy.Field
	body                 []byte
}

// errStale marks a failure before any byte of the answer arrived.
var errStale = errors.New("connection closed before an answer")

// roundTrip writes req and reads the answer's head. Until the body is
// done, ctx's end aborts the connection's I/O, and so does ctx's deadline:
// it becomes the connection's, so a context whose Done does not close at
// its deadline is honoured as well.
func (cn *conn) roundTrip(ctx context.Context, req request) (*http.Response, error) {
	deadline, _ := ctx.Deadline() // zero (none) resets an earlier request's
	if err := cn.nc.SetDeadline(deadline); err != nil {
		return nil, errors.Join(errStale, err)
	}
	cn.stop = afterFunc(ctx, cn.abort)
	if err := cn.write(req); err != nil {
		cn.stop()
		return nil, errors.Join(errStale, err)
	}
	resp, err := cn.readResponse(req.method)
	if err != nil {
		cn.stop()
		return nil, err
	}
	return resp, nil
}

// write sends the request line, the headers and the body.
func (cn *conn) write(req request) error {
	b := append(cn.wbuf[:0], req.method...)
	b = append(append(append(b, ' '), req.target...), " HTTP/1.1\r\nHost: "...)
	b = append(append(b, req.host...), "\r\n"...)
	b = appendHeaders(b, req.in, req.extra)
	if req.body != nil || req.method == http.MethodPost || req.method == http.MethodPut || req.method == http.MethodPatch {
		b = strconv.AppendInt(append(b, "Content-Length: "...), int64(len(req.body)), 10)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	if len(req.body) <= inlineBody {
		b = append(b, req.body...)
		cn.wbuf = keep(b, 1)
		if d, ok := cn.rw.(writeOnRead); ok && cn.recent && cn.br.Buffered() == 0 {
			d.WriteOnRead(b)
			return nil
		}
		_, err := cn.rw.Write(b)
		return err
	}
	cn.wbuf = keep(b, 1)
	bufs := net.Buffers{b, req.body}
	_, err := bufs.WriteTo(cn.nc)
	return err
}

// writeOnRead is rawio.Conn's: the answer's first read writes the
// request, then waits for the answer without first trying a read that
// would find nothing (one system call less per request: 2.9 instead of
// 3.9 reads per small request at 32 connections, 2-6% less CPU).
//
// It is used on connections new or idle for less than recentIdle only. A
// close by the worker that arrived before the request was written may be
// noticed only when the worker answers the request with a reset (a closed
// socket does); a connection the worker let sit for longer could have been
// half-closed by it (its keep-alive timeout), which a read tried first
// sees at once as EOF and Send retries on another connection.
type writeOnRead interface{ WriteOnRead(p []byte) }

// recentIdle: see writeOnRead. Keep-alive timeouts of HTTP servers are
// seconds (uvicorn's 5 s).
const recentIdle = 100 * time.Millisecond

// appendHeaders appends in's headers that a proxy forwards (see
// proxy.Forwarded) and are not replaced by extra, then extra's.
func appendHeaders(b []byte, in http.Header, extra []proxy.Field) []byte {
	conn := in["Connection"]
	for k, vs := range in {
		if proxy.Replaces(extra, k) || !proxy.Forwarded(k, conn) {
			continue
		}
		for _, v := range vs {
			b = appendField(b, k, v)
		}
	}
	for _, f := range extra {
		b = appendField(b, f.Key, f.Value)
	}
	return b
}

func appendField(b []byte, k, v string) []byte {
	return append(append(append(append(b, k...), ": "...), v...), "\r\n"...)
}

// afterFuncer is a context that schedules functions on its own end, as
// context.AfterFunc documents (the router's HTTP/1.1 server's is one).
type afterFuncer interface {
	AfterFunc(func()) func() bool
}

// afterFunc is context.AfterFunc, calling ctx's own AfterFunc directly
// when it has one: context.AfterFunc would wrap it in a context of its own
// (about five allocations per request).
func afterFunc(ctx context.Context, f func()) func() bool {
	if a, ok := ctx.(afterFuncer); ok {
		return a.AfterFunc(f)
	}
	return context.AfterFunc(ctx, f)
}
