//go:build !race

package router

import (
	"strings"
	"testing"

	"github.com/sgl-project/sglang-router-go/go/reqbody"
)

// TestContinuedTextAllocatesNothing: the text recorded for an answer is
// mostly the request's, 400 KB for a large prompt; building it in a fresh
// buffer per answer made cache_aware's large prompts cost nearly twice
// round_robin's CPU (the garbage, collected). Not under -race, whose
// sync.Pool drops entries on purpose: make test runs the tests named
// AllocatesNothing a second time without it.
func TestContinuedTextAllocatesNothing(t *testing.T) {
	p := answerPlan{follow: reqbody.FollowText, text: strings.Repeat("prompt ", 400<<10/7)}
	ans := []byte("the answer")
	releaseContinued(continued(p, ans))
	allocs := testing.AllocsPerRun(100, func() {
		buf := continued(p, ans)
		if len(*buf) != len(p.text)+len(ans) {
			t.Fatalf("continued text of %d bytes, want %d", len(*buf), len(p.text)+len(ans))
		}
		releaseContinued(buf)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per recorded answer, want 0", allocs)
	}
}
