//go:build !linux

package h1

import "errors"

// Without epoll every connection uses the goroutine watcher (watch.go).
type hupPoller struct{}

func newHupPoller(func(string, ...any)) (*hupPoller, error) {
	return nil, errors.New("h1: no hang-up poller on this system")
}

func (p *hupPoller) add(*conn) bool { return false }
func (p *hupPoller) forget(*conn)   {}
func (p *hupPoller) release(*conn)  {}
func (p *hupPoller) close()         {}
func (c *conn) peek() peer          { return peerData }
