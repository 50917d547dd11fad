package sim

import (
	"context"
	"errors"
	"testing"
)

func isReady(t *ticket) bool {
	select {
	case <-t.ready:
		return true
	default:
		return false
	}
}

func TestSchedulerFIFO(t *testing.T) {
	s := newScheduler(2, 0)
	var ts []*ticket
	for i := range 5 {
		tk, err := s.enqueue(10 + i)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, tk)
	}
	if got := s.load(); got != (load{Running: 2, Waiting: 3, RunningTokens: 21, WaitingTokens: 39}) {
		t.Fatalf("load %+v", got)
	}
	for i, want := range []bool{true, true, false, false, false} {
		if isReady(ts[i]) != want {
			t.Fatalf("ticket %d ready=%v, want %v", i, !want, want)
		}
	}
	s.release(ts[1])
	if !isReady(ts[2]) || isReady(ts[3]) {
		t.Fatal("a freed slot must go to the head of the queue")
	}
	// A waiting request that gives up leaves the queue without a slot.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.wait(ctx, ts[3]); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait on cancelled ctx: %v", err)
	}
	s.release(ts[0])
	if !isReady(ts[4]) {
		t.Fatal("ticket 4 should run after 3 left the queue")
	}
	s.addTokens(ts[4], 5)
	if got := s.load(); got != (load{Running: 2, Waiting: 0, RunningTokens: 12 + 14 + 5}) {
		t.Fatalf("load %+v", got)
	}
}

func TestSchedulerBounds(t *testing.T) {
	cases := []struct {
		name     string
		maxQueue int
		accepted int // of 5 requests with a batch of 1
	}{
		{"unbounded queue", 0, 5},
		{"queue of two", 2, 3},
		{"no queue", -1, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newScheduler(1, tc.maxQueue)
			ok := 0
			for range 5 {
				if _, err := s.enqueue(1); err == nil {
					ok++
				} else if !errors.Is(err, errOverloaded) {
					t.Fatal(err)
				}
			}
			if ok != tc.accepted {
				t.Fatalf("accepted %d, want %d", ok, tc.accepted)
			}
		})
	}
}

func TestSchedulerWithdrawRunning(t *testing.T) {
	s := newScheduler(1, 0)
	a, _ := s.enqueue(1)
	b, _ := s.enqueue(1)
	s.withdraw(a)
	if !isReady(b) {
		t.Fatal("withdrawing a running ticket must free its slot")
	}
	s.withdraw(b)
	if got := s.load(); got != (load{}) {
		t.Fatalf("load %+v after everything left", got)
	}
}
