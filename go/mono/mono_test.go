package mono

import (
	"testing"
	"time"
)

// Now must keep a monotonic reading: without one, Sub and deadlines would
// fall back to the wall clock and a step of the system clock would move
// them.
func TestNowKeepsTheMonotonicReading(t *testing.T) {
	if s := Now().String(); !containsMono(s) {
		t.Fatalf("Now() = %s, want a monotonic reading (m=...)", s)
	}
}

func containsMono(s string) bool {
	for i := 0; i+3 <= len(s); i++ {
		if s[i:i+3] == "m=+" {
			return true
		}
	}
	return false
}

// Now moves with time.Now: never backwards, and by as much as time.Now
// moves over the same interval (within the time between the reads).
func TestNowMovesWithTimeNow(t *testing.T) {
	a, wa := Now(), time.Now()
	time.Sleep(20 * time.Millisecond)
	wb, b := time.Now(), Now()
	if !b.After(a) {
		t.Fatalf("Now went from %v to %v", a, b)
	}
	if got, outer := b.Sub(a), wb.Sub(wa); got < outer-time.Millisecond || got > outer+time.Second {
		t.Fatalf("Now moved %v while time.Now moved %v", got, outer)
	}
	if d := time.Since(b); d < 0 {
		t.Fatalf("time.Since(Now()) = %v, want >= 0", d)
	}
}

// Its wall reading agrees with the system clock's when the clock was not
// stepped since start-up (a generous bound: the test machine's clock is
// not stepped by the test).
func TestNowWallReadingIsTheSystemClock(t *testing.T) {
	if d := time.Now().Round(0).Sub(Now().Round(0)); d < -time.Second || d > time.Second {
		t.Fatalf("wall readings differ by %v", d)
	}
}

func BenchmarkNow(b *testing.B) {
	for b.Loop() {
		_ = Now()
	}
}

func BenchmarkTimeNow(b *testing.B) {
	for b.Loop() {
		_ = time.Now()
	}
}
