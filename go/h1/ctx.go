package h1

import (
	"context"
	"sync"
	"time"
)

// reqCtx is the context of a connection's requests, reused from one
// request to the next (begin, end). It is cancelled when the handler
// returns, when the base context ends, and when the client goes away
// while the handler waits: the connection is watched for that only once
// someone asks (Done, AfterFunc) and the request's body has been read,
// so a handler that never waits costs no watcher. Its Value and Deadline
// are the base context's; context.Cause reports the base's cause once it
// ended, else Err.
type reqCtx struct {
	base context.Context
	c    *conn

	mu   sync.Mutex // guards the fields below
	live bool       // a request is being served
	done chan struct{}
	err  error
	fns  []afterFunc
	// lastID numbers AfterFunc registrations, never reused on the
	// connection, so a stop kept past its request removes nothing else.
	lastID uint64
	// watchWanted: Done or AfterFunc was called; bodyRead: the body was
	// read whole; watching: the watcher runs, or (with the hang-up poller)
	// a hang-up cancels the request.
	watchWanted, bodyRead, watching bool
	// With the hang-up poller: hupSeen, the poller reported a hang-up
	// not yet found true or false (kept across requests: a client may end
	// its side while idle, after its next request); gone, the client left
	// during this request (the connection closes after the answer).
	hupSeen, gone bool
}

// afterFunc is a function registered with AfterFunc.
type afterFunc struct {
	id uint64
	f  func()
}

func (c *reqCtx) Deadline() (time.Time, bool) { return c.base.Deadline() }
func (c *reqCtx) Value(key any) any           { return c.base.Value(key) }

func (c *reqCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *reqCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		if c.err != nil {
			close(c.done)
		}
	}
	c.wantWatchLocked()
	return c.done
}

// AfterFunc is what context.AfterFunc uses for this context: f runs in
// its own goroutine once the context is cancelled.
func (c *reqCtx) AfterFunc(f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		go f()
		return func() bool { return false }
	}
	c.lastID++
	id := c.lastID
	c.fns = append(c.fns, afterFunc{id: id, f: f})
	c.wantWatchLocked()
	return func() bool { return c.stop(id) }
}

// stop unregisters function id; false if it ran or was stopped already.
func (c *reqCtx) stop(id uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, a := range c.fns {
		if a.id == id {
			last := len(c.fns) - 1
			copy(c.fns[i:], c.fns[i+1:])
			c.fns[last] = afterFunc{} // drop the function
			c.fns = c.fns[:last]
			return true
		}
	}
	return false
}

// begin starts a request: not cancelled, no watcher yet.
// bodyRead tells whether the request has no body left to read.
func (c *reqCtx) begin(bodyRead bool) {
	c.mu.Lock()
	c.live, c.done, c.err = true, nil, nil
	clear(c.fns)
	c.fns = c.fns[:0]
	c.watchWanted, c.bodyRead, c.watching, c.gone = false, bodyRead, false, false
	c.mu.Unlock()
	if err := c.base.Err(); err != nil {
		c.cancel(err)
	}
}

// end cancels the request's context; it stays cancelled until the next
// begin. It reports whether a watcher goroutine was started; with the
// hang-up poller it reports false, and marks the connection to close if
// its client left.
func (c *reqCtx) end() bool {
	c.cancel(context.Canceled)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.live = false
	if c.c.hup == nil {
		return c.watching
	}
	if c.gone {
		c.c.closeNow = true
	}
	c.watching = false
	return false
}

// cancel cancels the request in flight, if any, with err.
func (c *reqCtx) cancel(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cancelLocked(err)
}

func (c *reqCtx) cancelLocked(err error) {
	if !c.live || c.err != nil {
		return
	}
	c.err = err
	if c.done != nil {
		close(c.done)
	}
	for _, a := range c.fns {
		go a.f()
	}
	clear(c.fns)
	c.fns = c.fns[:0]
}

// bodyDone records that the body was read whole: the watcher may start.
func (c *reqCtx) bodyDone() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.bodyRead = true
	if c.watchWanted {
		c.startWatchLocked()
	}
}

func (c *reqCtx) wantWatchLocked() {
	c.watchWanted = true
	if c.bodyRead {
		c.startWatchLocked()
	}
}

func (c *reqCtx) startWatchLocked() {
	if c.watching || !c.live || c.err != nil {
		return
	}
	if c.c.hup == nil {
		c.watching = c.c.startWatch()
		return
	}
	c.watching = true
	if c.hupSeen { // the client may have ended its side while idle
		c.checkGoneLocked()
	}
}

// hangup: the poller saw the connection hang up (or a late event for an
// earlier socket of the same number). A watching request whose client is
// gone is cancelled; otherwise it is noted for the next watch.
func (c *reqCtx) hangup() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hupSeen = true
	if c.watching && c.live && c.err == nil {
		c.checkGoneLocked()
	}
}

// checkGoneLocked looks at the socket after a reported hang-up: gone
// cancels the request; bytes waiting (a next request, maybe followed by
// the end) keep the report for the next watch; nothing waiting clears it.
func (c *reqCtx) checkGoneLocked() {
	switch c.c.peek() {
	case peerIdle:
		c.hupSeen = false
	case peerGone:
		c.gone = true
		c.cancelLocked(context.Canceled)
	}
}
