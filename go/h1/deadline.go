package h1

import (
	"sync"
	"time"
)

// readDeadline makes the connection's read deadline lazy: a deadline
// asked for is given to the socket only before the next read from it (or
// at once when a read is under way). A request asks for several (the idle
// wait's, none while its handler runs, the router's for its body, none
// again), and its body has mostly arrived with its headers: of the four
// timer changes only the idle wait's reaches the runtime.
type readDeadline struct {
	mu      sync.Mutex
	want    time.Time // what was asked for last
	set     time.Time // what the socket has
	reading int       // reads from the socket under way
}

// setReadDeadlineAt asks for read deadline t: at the next read, or now when
// a read is under way (a deadline may be set to interrupt it).
func (c *conn) setReadDeadlineAt(t time.Time) error {
	c.rd.mu.Lock()
	defer c.rd.mu.Unlock()
	c.rd.want = t
	if c.rd.reading == 0 {
		return nil
	}
	c.rd.set = t
	return c.nc.SetReadDeadline(t)
}

// Read reads from the socket under the read deadline asked for last.
func (c *conn) Read(p []byte) (int, error) {
	c.rd.mu.Lock()
	if !c.rd.want.Equal(c.rd.set) {
		if err := c.nc.SetReadDeadline(c.rd.want); err != nil {
			c.rd.mu.Unlock()
			return 0, err
		}
		c.rd.set = c.rd.want
	}
	c.rd.reading++
	c.rd.mu.Unlock()
	n, err := c.rw.Read(p)
	c.rd.mu.Lock()
	c.rd.reading--
	c.rd.mu.Unlock()
	return n, err
}
