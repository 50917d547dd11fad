package h1

import (
	"net"
	"os"
	"runtime"
	"sync"
	"syscall"
	"unsafe"
)

// The hang-up poller (Linux): one epoll set per server holds every TCP
// connection from accept to close, watching only for hang-ups
// (EPOLLRDHUP, EPOLLHUP, EPOLLERR; not EPOLLIN, so a pipelined request
// wakes nothing). The set's own descriptor sits in Go's netpoller: one
// goroutine per server parks there while no connection hung up and, when
// the set is readable, drains it with epoll_wait(0). A request that
// watches for its client leaving (see reqCtx) then costs no goroutine, no
// read and no deadline: a hang-up is confirmed by a non-blocking
// MSG_PEEK (see conn.peek) and cancels the request's context.

// hupEvents, edge-triggered (EPOLLET, 1<<31, which package syscall spells
// as a negative number): level-triggered, a connection that hung up while
// idle would be reported by every epoll_wait until it closed.
const hupEvents = syscall.EPOLLRDHUP | syscall.EPOLLHUP | syscall.EPOLLERR | 1<<31

type hupPoller struct {
	f    *os.File
	raw  syscall.RawConn
	logf func(string, ...any)

	mu    sync.Mutex // guards conns
	conns map[int32]*conn
	once  sync.Once
}

// newHupPoller makes the epoll set and starts its goroutine.
func newHupPoller(logf func(string, ...any)) (*hupPoller, error) {
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "h1-hangups")
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	p := &hupPoller{f: f, raw: raw, logf: logf, conns: map[int32]*conn{}}
	go p.run()
	return p, nil
}

// add registers c's socket; false if it cannot be (c then uses the
// goroutine watcher).
func (p *hupPoller) add(c *conn) bool {
	tc, ok := c.nc.(*net.TCPConn)
	if !ok {
		return false
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return false
	}
	fd := -1
	if raw.Control(func(s uintptr) { fd = int(s) }) != nil || fd < 0 {
		return false
	}
	c.raw, c.fd = raw, int32(fd)
	p.mu.Lock()
	p.conns[c.fd] = c
	p.mu.Unlock()
	// Registered while the connection's descriptor is held open, so the
	// number cannot name another socket meanwhile.
	added := false
	cerr := raw.Control(func(s uintptr) {
		ev := syscall.EpollEvent{Events: hupEvents, Fd: int32(s)}
		added = p.ctl(syscall.EPOLL_CTL_ADD, int(s), &ev) == nil
	})
	if cerr != nil || !added {
		p.forget(c)
		return false
	}
	return true
}

// ctl runs epoll_ctl on the set while its descriptor is held open.
func (p *hupPoller) ctl(op, fd int, ev *syscall.EpollEvent) error {
	var err error
	if cerr := p.raw.Control(func(s uintptr) { err = syscall.EpollCtl(int(s), op, fd, ev) }); cerr != nil {
		return cerr
	}
	return err
}

// forget drops c before its socket closes: a closed socket leaves the set
// by itself. A late event for its number reaches at most the next
// connection given that number, whose peek finds it alive.
func (p *hupPoller) forget(c *conn) {
	p.mu.Lock()
	if p.conns[c.fd] == c {
		delete(p.conns, c.fd)
	}
	p.mu.Unlock()
}

// release takes c out of the set while its socket stays open (handed to
// the fallback server).
func (p *hupPoller) release(c *conn) {
	p.forget(c)
	_ = c.raw.Control(func(s uintptr) { _ = p.ctl(syscall.EPOLL_CTL_DEL, int(s), nil) })
}

// run waits in the netpoller for the set to be readable and passes every
// hang-up to its connection, until the set is closed.
func (p *hupPoller) run() {
	var evs [64]syscall.EpollEvent
	for {
		n := 0
		err := p.raw.Read(func(s uintptr) bool {
			var e error
			n, e = syscall.EpollWait(int(s), evs[:], 0)
			if e == syscall.EINTR {
				n = 0
				return true
			}
			return n > 0 || (e != nil && e != syscall.EAGAIN)
		})
		if err != nil {
			return // closed
		}
		for i := 0; i < n; i++ {
			p.mu.Lock()
			c := p.conns[evs[i].Fd]
			p.mu.Unlock()
			if c != nil {
				p.deliver(c)
			}
		}
	}
}

// deliver tells c's request context that its client may have left; a
// panic there is logged, not let out (it would end the user's process).
func (p *hupPoller) deliver(c *conn) {
	defer func() {
		if r := recover(); r != nil {
			buf := make([]byte, 64<<10)
			buf = buf[:runtime.Stack(buf, false)]
			p.logf("h1: panic passing a hang-up to %s: %v\n%s", c.remoteAddr, r, buf)
		}
	}()
	c.ctx.hangup()
}

func (p *hupPoller) close() { p.once.Do(func() { _ = p.f.Close() }) }

// peek tells, without reading or waiting, whether c's client is still
// there: bytes waiting or nothing (alive), or an end or error (gone).
func (c *conn) peek() peer {
	var b [1]byte
	var n uintptr
	var errno syscall.Errno
	err := c.raw.Control(func(s uintptr) {
		n, _, errno = syscall.Syscall6(syscall.SYS_RECVFROM, s, uintptr(unsafe.Pointer(&b[0])), 1,
			syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
	})
	switch {
	case err != nil:
		return peerGone // closed here
	case errno == syscall.EAGAIN:
		return peerIdle
	case errno == syscall.EINTR:
		return peerData // unknown: look again at the next event or request
	case errno != 0 || n == 0:
		return peerGone
	}
	return peerData
}
