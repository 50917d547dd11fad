package sim

import (
	"container/list"
	"context"
	"errors"
	"sync"
)

// errOverloaded is returned when the batch is full and the queue too.
var errOverloaded = errors.New("server overloaded: running batch and waiting queue are full")

// scheduler is the running batch: at most maxRunning requests run at once
// and the rest wait in a FIFO queue (bounded by maxQueue: 0 = unbounded,
// -1 = no queue). It also keeps the token counts /get_load reports. Safe
// for concurrent use; mu guards every field below it.
type scheduler struct {
	maxRunning int
	maxQueue   int

	mu            sync.Mutex
	running       int
	runningTokens int // prompt + generated tokens of running requests
	waiting       list.List
	waitingTokens int // prompt tokens of waiting requests
}

// ticket is one request's place in the scheduler.
type ticket struct {
	ready   chan struct{} // closed when the request may run
	granted bool          // guarded by scheduler.mu
	elem    *list.Element // position in waiting, nil once granted
	tokens  int           // tokens this request accounts for in the load
}

func newScheduler(maxRunning, maxQueue int) *scheduler {
	return &scheduler{maxRunning: maxRunning, maxQueue: maxQueue}
}

// enqueue places a request of promptTokens in the batch, or at the back of
// the queue; it never blocks. errOverloaded when there is no room.
func (s *scheduler) enqueue(promptTokens int) (*ticket, error) {
	t := &ticket{ready: make(chan struct{}), tokens: promptTokens}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.running < s.maxRunning && s.waiting.Len() == 0:
		s.grantLocked(t)
	case s.maxQueue < 0 || (s.maxQueue > 0 && s.waiting.Len() >= s.maxQueue):
		return nil, errOverloaded
	default:
		t.elem = s.waiting.PushBack(t)
		s.waitingTokens += t.tokens
	}
	return t, nil
}

// wait blocks until t may run or ctx is done; on ctx.Err() t is gone from
// the scheduler and must not be released.
func (s *scheduler) wait(ctx context.Context, t *ticket) error {
	select {
	case <-t.ready:
		return nil
	case <-ctx.Done():
	}
	s.withdraw(t)
	return ctx.Err()
}

// withdraw takes t out of the scheduler, waiting or running; t must not be
// released afterwards.
func (s *scheduler) withdraw(t *ticket) {
	s.mu.Lock()
	granted := t.granted
	if !granted {
		s.waiting.Remove(t.elem)
		s.waitingTokens -= t.tokens
		t.elem = nil
	}
	s.mu.Unlock()
	if granted {
		s.release(t)
	}
}

// addTokens accounts for n more tokens of a running request.
func (s *scheduler) addTokens(t *ticket, n int) {
	s.mu.Lock()
	t.tokens += n
	s.runningTokens += n
	s.mu.Unlock()
}

// release frees t's slot and hands it to the head of the queue.
func (s *scheduler) release(t *ticket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running--
	s.runningTokens -= t.tokens
	if front := s.waiting.Front(); front != nil && s.running < s.maxRunning {
		next := s.waiting.Remove(front).(*ticket)
		s.waitingTokens -= next.tokens
		next.elem = nil
		s.grantLocked(next)
	}
}

func (s *scheduler) grantLocked(t *ticket) {
	s.running++
	s.runningTokens += t.tokens
	t.granted = true
	close(t.ready)
}

// load is a snapshot of the scheduler's counts.
type load struct {
	Running, Waiting, RunningTokens, WaitingTokens int
}

func (s *scheduler) load() load {
	s.mu.Lock()
	defer s.mu.Unlock()
	return load{s.running, s.waiting.Len(), s.runningTokens, s.waitingTokens}
}

// runningNow is the batch size, for the decode step time.
func (s *scheduler) runningNow() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running
}
