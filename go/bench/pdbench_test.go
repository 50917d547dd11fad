package bench

import (
	"context"
	"testing"
	"time"
)

func TestPDBenchRunsBothSidesWithoutErrors(t *testing.T) {
	direct, routed, err := measurePD(context.Background(), Options{Concurrency: 2, Duration: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]Result{"direct": direct, "routed": routed} {
		if r.Requests == 0 || r.Errors != 0 {
			t.Errorf("%s: %d requests, %d errors", name, r.Requests, r.Errors)
		}
	}
}
