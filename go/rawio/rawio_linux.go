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
	return c.run(&c.r, p[:min(len(p), maxRW)], false)
}

// Write is nc's Write: it returns when all of p is written or the
// connection failed.
func (c *Conn) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if !c.w.busy.CompareAndSwap(false, true) {
		return c.nc.Write(p)
	}
	return c.run(&c.w, p, true)
}

// run does h's call on p through the socket's RawConn (which waits for
// the socket in the netpoller when the call finds it not ready) and
// releases h.
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
	h.busy.Store(false)
	return n, c.wrap(op, err)
}

// readFD reads once; false (wait for the socket) on EAGAIN.
func (c *Conn) readFD(fd uintptr) bool {
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
