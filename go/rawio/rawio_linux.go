//go:build linux

package rawio

import (
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"syscall"
)

// maxRW bounds one system call, as the net package does.
const maxRW = 1 << 30

// half is the state of one direction's call, kept in the Conn so that
// the function handed to syscall.RawConn is bound once and allocates
// nothing per call.
type half struct {
	busy atomic.Bool
	p    []byte
	n    int
	err  error
	fn   func(fd uintptr) bool
}

// Conn reads and writes a TCP connection with raw system calls.
type Conn struct {
	nc   net.Conn
	rc   syscall.RawConn
	r, w half
	// pend is written by the next Read before it waits (see WriteOnRead).
	pend []byte
}

// Wrap returns nc's reads and writes, raw when nc is a TCP connection,
// else nc itself. Everything else (deadlines, Close) stays nc's.
func Wrap(nc net.Conn) io.ReadWriter {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nc
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nc
	}
	c := &Conn{nc: nc, rc: rc}
	c.r.fn, c.w.fn = c.readFD, c.writeFD
	return c
}

// Read is nc's Read.
func (c *Conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if !c.r.busy.CompareAndSwap(false, true) {
		return c.nc.Read(p)
	}
	defer c.r.busy.Store(false)
	p = p[:min(len(p), maxRW)]
	n, err := c.run(&c.r, p, false)
	if rest := c.pend; rest != nil && err == nil {
		// The socket took only part of it: the rest waits for room as
		// Write does, then the answer is read as usual.
		c.pend = nil
		if _, err = c.Write(rest); err != nil {
			return 0, err
		}
		n, err = c.run(&c.r, p, false)
	}
	c.pend = nil
	return n, err
}

// WriteOnRead has the next Read write p (all of it, as Write does) before
// it reads. That read then waits for the answer at once: a read tried
// right after a request finds nothing (EAGAIN) and costs a system call,
// and a separate Write before it would reset the socket's readiness too
// late for the read to skip it safely. The write is done within the read,
// after the socket's read readiness was reset, so an answer arriving at
// any time after it is seen.
//
// For request-answer exchanges only: bytes that the peer sent before p
// and that were not read yet may be noticed only when more arrive. The
// next Read must not run concurrently with another; a failed write is
// its error.
func (c *Conn) WriteOnRead(p []byte) { c.pend = p }

// Write is nc's Write: it returns when all of p is written or the
// connection failed.
func (c *Conn) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if !c.w.busy.CompareAndSwap(false, true) {
		return c.nc.Write(p)
	}
	defer c.w.busy.Store(false)
	return c.run(&c.w, p, true)
}

// run does h's call on p through the socket's RawConn, which waits for
// the socket in the netpoller when the call finds it not ready.
func (c *Conn) run(h *half, p []byte, write bool) (int, error) {
	h.p, h.n, h.err = p, 0, nil
	var err error
	op := "read"
	if write {
		op = "write"
		err = c.rc.Write(h.fn)
	} else {
		err = c.rc.Read(h.fn)
	}
	n := h.n
	if err == nil {
		err = h.err
	}
	h.p, h.err = nil, nil
	return n, c.wrap(op, err)
}

// readFD reads once; false (wait for the socket) on EAGAIN. A write
// pending (see WriteOnRead) is done first, and then it waits.
func (c *Conn) readFD(fd uintptr) bool {
	if c.pend != nil {
		return c.writePending(fd)
	}
	p := c.r.p
	for {
		n, e := sysRead(fd, p)
		switch e {
		case 0:
			c.r.n = int(n)
			if n == 0 {
				c.r.err = io.EOF
			}
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		c.r.err = os.NewSyscallError("read", e)
		return true
	}
}

// writePending writes c.pend: false (wait for the answer) once all of it
// is written; true with the rest in c.pend if the socket is full, or with
// the error.
func (c *Conn) writePending(fd uintptr) bool {
	for len(c.pend) > 0 {
		n, e := sysWrite(fd, c.pend)
		switch e {
		case 0:
			if n == 0 {
				c.pend, c.r.err = nil, io.ErrUnexpectedEOF
				return true
			}
			c.pend = c.pend[n:]
		case syscall.EINTR:
		case syscall.EAGAIN:
			return true
		default:
			c.pend, c.r.err = nil, os.NewSyscallError("write", e)
			return true
		}
	}
	c.pend = nil
	return false
}

// writeFD writes what is left of c.w.p; false (wait for the socket) on
// EAGAIN with some left.
func (c *Conn) writeFD(fd uintptr) bool {
	for c.w.n < len(c.w.p) {
		p := c.w.p[c.w.n:]
		p = p[:min(len(p), maxRW)]
		n, e := sysWrite(fd, p)
		switch e {
		case 0:
			if n == 0 {
				c.w.err = io.ErrUnexpectedEOF
				return true
			}
			c.w.n += int(n)
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			c.w.err = os.NewSyscallError("write", e)
			return true
		}
	}
	return true
}

// wrap gives err net.Conn's form: an *net.OpError naming op, io.EOF as
// it is.
func (c *Conn) wrap(op string, err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		err = oe.Err // the raw-read or raw-write wrapping of syscall.RawConn
	}
	return &net.OpError{Op: op, Net: "tcp", Source: c.nc.LocalAddr(), Addr: c.nc.RemoteAddr(), Err: err}
}
