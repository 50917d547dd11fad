package h1

// What a look at a connection's socket found (conn.peek), for the
// hang-up poller.
type peer int8

const (
	peerData peer = iota // bytes wait (a next request), or it could not tell
	peerIdle             // nothing waits: the client is there
	peerGone             // the client ended its side, or the connection failed
)

// poller returns the server's hang-up poller, made on first use; nil
// where there is none (not Linux, epoll failed, the server closed, or
// the tests' noHup).
func (s *Server) poller() *hupPoller {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hup == nil && !s.hupTried && !s.noHup && !s.shutting.Load() {
		s.hupTried = true
		p, err := newHupPoller(s.logf)
		if err == nil {
			s.hup = p
		}
	}
	return s.hup
}

// watchHangups registers c with the hang-up poller, if it can be.
func (c *conn) watchHangups() {
	if p := c.srv.poller(); p != nil && p.add(c) {
		c.hup = p
	}
}

// closeHangups stops the hang-up poller once no connection needs it.
func (s *Server) closeHangups() {
	s.mu.Lock()
	p := s.hup
	s.mu.Unlock()
	if p != nil {
		p.close()
	}
}
