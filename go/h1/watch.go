package h1

import (
	"context"
	"errors"
	"net"
	"time"
)

// The disconnect watcher: while a handler waits, a goroutine reads the
// connection, so that a client leaving cancels the request's context.
// Its read, if nothing came during the request, is then the wait for the
// next request.

// afterWatch makes the read of the last request's watcher the wait for
// the next request: reusing it spares interrupting it and reading again.
// Whichever of this goroutine and the watcher is done second serves on
// (see watch), so no goroutine waits for, or wakes, the other. It reports
// whether this goroutine serves on.
func (c *conn) afterWatch() bool {
	c.pending = false
	if c.in.buffered() > 0 { // a pipelined request is here already
		c.stopWatch()
		return true
	}
	if c.setReadDeadline(c.srv.IdleTimeout) != nil {
		c.close()
		return false
	}
	if c.turn.Add(1) == 1 {
		return false // the watcher still reads; it serves on
	}
	if !c.takeWatch() {
		c.close()
		return false
	}
	return true
}

// resume serves on from the watcher's goroutine, the connection's
// goroutine having left (see afterWatch).
func (c *conn) resume() {
	if !c.takeWatch() {
		c.close()
		return
	}
	c.loop(false)
}

// takeWatch keeps what the finished watcher read; false if nothing (the
// client left, or the idle timeout passed).
func (c *conn) takeWatch() bool {
	n := c.watchN
	c.in.w += n
	c.watchN, c.watchErr = 0, nil
	return n > 0
}

// startWatch starts the disconnect watcher, which reads into the buffer's
// free tail (the body is read, so nothing else reads the connection until
// stopWatch). It reports false when the buffer is full of pipelined
// requests: their client has not left.
func (c *conn) startWatch() bool {
	if c.in.buffered() == 0 {
		c.in.r, c.in.w = 0, 0
	}
	c.in.compact()
	if c.in.w == len(c.in.buf) {
		return false
	}
	if c.watchDone == nil {
		c.watchDone = make(chan struct{}, 1)
	}
	c.turn.Store(0)
	go c.watchFn()
	return true
}

// watch reads once: bytes are the client's next request (kept); an error
// before stopWatch means the client left, and cancels the request. Done
// after the connection's goroutine left, it serves on (see afterWatch);
// stopWatch waits for it.
func (c *conn) watch() {
	n, err := c.Read(c.in.buf[c.in.w:])
	c.watchN, c.watchErr = n, err
	if n == 0 && !c.aborting.Load() {
		c.ctx.cancel(context.Canceled)
	}
	if c.turn.Add(1) == 1 {
		return // the connection's goroutine takes the result
	}
	if c.aborting.Load() {
		c.watchDone <- struct{}{} // stopWatch waits
		return
	}
	c.resume()
}

// stopWatch interrupts the watcher's read and keeps what it read; if the
// client had left, the connection closes after the answer.
func (c *conn) stopWatch() {
	c.aborting.Store(true)
	_ = c.setReadDeadlineAt(aLongTimeAgo) // at once if it reads, else at its read
	if c.turn.Add(1) == 1 {
		<-c.watchDone
	}
	c.aborting.Store(false)
	c.in.w += c.watchN
	if c.watchN == 0 && !isTimeout(c.watchErr) {
		c.closeNow = true
	}
	c.watchN, c.watchErr = 0, nil
	if c.setReadDeadlineAt(time.Time{}) != nil {
		c.closeNow = true
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
