package sim

import (
	"context"
	"time"
)

// Clock is the simulator's only source of time: the latency model sleeps
// through it and measures with it, so tests inject a manual clock and
// assert exact timings.
type Clock interface {
	Now() time.Time
	// Sleep blocks for d, or until ctx is done, in which case it returns
	// ctx.Err(). A non-positive d returns at once.
	Sleep(ctx context.Context, d time.Duration) error
}

// RealClock is the wall clock.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// Sleep sleeps on a timer that it stops on return.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
