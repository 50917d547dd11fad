package router

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestHealthWithNoWorkersIsOKButNotReady(t *testing.T) {
	f := newFixture(t, testOptions())
	if resp, body := f.do("GET", "/health", ""); resp.StatusCode != 200 || body != "All servers healthy" {
		t.Fatalf("health with an empty pool: %d %q (v0.1.6 answered 200)", resp.StatusCode, body)
	}
	if resp, _ := f.do("GET", "/readiness", ""); resp.StatusCode != 503 {
		t.Fatalf("readiness with an empty pool: %d", resp.StatusCode)
	}
}

func TestBackoffFollowsMultiplierCapAndJitter(t *testing.T) {
	p := RetryPolicy{Initial: 100 * time.Millisecond, Max: time.Second, Multiplier: 1.5, Jitter: 0.2}
	mid := func() float64 { return 0.5 } // no jitter
	for n, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 150 * time.Millisecond, 3: 225 * time.Millisecond, 9: time.Second} {
		if got := p.backoffWith(n, mid); got != want {
			t.Errorf("retry %d: %v, want %v", n, got, want)
		}
	}
	lo, hi := p.backoffWith(2, func() float64 { return 0 }), p.backoffWith(2, func() float64 { return 0.999999 })
	if lo != 120*time.Millisecond || hi < 179*time.Millisecond || hi > 180*time.Millisecond {
		t.Errorf("jitter bounds %v %v, want 120ms and 180ms", lo, hi)
	}
}

func TestBucketAdmitsABurstThenWaitsForTokens(t *testing.T) {
	now := time.Unix(0, 0)
	b := newBucket(2, 10, func() time.Time { return now })
	for i := 0; i < 2; i++ {
		if w, ok := b.reserve(0); !ok || w != 0 {
			t.Fatalf("burst token %d: %v %v", i, w, ok)
		}
	}
	if _, ok := b.reserve(0); ok {
		t.Fatal("a third token without waiting")
	}
	if w, ok := b.reserve(time.Second); !ok || w != 100*time.Millisecond {
		t.Fatalf("next token in %v (%v), want 100ms at 10/s", w, ok)
	}
	now = now.Add(time.Second) // refill, capped at the capacity
	if w, ok := b.reserve(0); !ok || w != 0 {
		t.Fatalf("after a second: %v %v", w, ok)
	}
}

func TestRateLimitWithoutQueueAnswers429(t *testing.T) {
	opts := testOptions()
	opts.MaxConcurrent, opts.QueueSize, opts.RateLimit = 1, 0, 0.001 // one token, then one per 1000 s
	f := newFixture(t, opts, "w0")
	if resp, _ := f.do("POST", "/generate", `{"text":"a"}`); resp.StatusCode != 200 {
		t.Fatalf("first request: %d", resp.StatusCode)
	}
	if resp, _ := f.do("POST", "/generate", `{"text":"b"}`); resp.StatusCode != 429 {
		t.Fatalf("second request within the rate: %d, want 429", resp.StatusCode)
	}
}

func TestBucketWaiterLeavingGivesItsTokenBack(t *testing.T) {
	b := newBucket(1, 0.001, nil)
	_, _ = b.reserve(0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.take(ctx, time.Hour*2000); !errors.Is(err, context.Canceled) {
		t.Fatalf("take: %v", err)
	}
	if b.tokens < -0.01 {
		t.Fatalf("token not given back: %v", b.tokens)
	}
}
