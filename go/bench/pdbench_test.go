package bench

import (
	"context"
	"testing"
	"time"
)

func TestPDBenchRunsBothSidesWithoutErrors(t *testing.T) {
	// No time window: each side runs until 50 requests finished, bounded
	// only by a generous deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	direct, routed, err := measurePD(ctx, Options{Concurrency: 2, MinRequests: 50})
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]Result{"direct": direct, "routed": routed} {
		if r.Requests < 50 || r.Errors != 0 {
			t.Errorf("%s: %d requests, %d errors", name, r.Requests, r.Errors)
		}
	}
}
