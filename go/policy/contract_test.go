package policy

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sgl-project/sglang-router-go/go/worker"
)

var allNames = []string{NameRandom, NameRoundRobin, NamePowerOfTwo, NameCacheAware, NameCacheAwareOriginal, NameLeastLoad}

func TestNewKnowsEveryPolicy(t *testing.T) {
	for _, name := range allNames {
		p, err := New(name, DefaultOptions())
		if err != nil {
			t.Fatalf("New(%q): %v", name, err)
		}
		if p.Name() != name {
			t.Errorf("New(%q).Name() = %q", name, p.Name())
		}
		wantText := strings.HasPrefix(name, "cache_aware")
		if p.NeedsText() != wantText {
			t.Errorf("%s: NeedsText = %v, want %v", name, p.NeedsText(), wantText)
		}
	}
}

func TestNewRejectsUnknownName(t *testing.T) {
	_, err := New("least_busy", DefaultOptions())
	if !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), `"least_busy"`) {
		t.Fatalf("error %v should be ErrUnknown and name the policy", err)
	}
}

// TestContract: every policy returns nil for no candidates, never returns a
// worker outside the candidates (including tree tenants that left the
// pool), and is safe for concurrent use (run with -race).
func TestContract(t *testing.T) {
	for _, name := range allNames {
		t.Run(name, func(t *testing.T) {
			p, err := New(name, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			if w := p.Pick(nil, "text"); w != nil {
				t.Fatalf("Pick(nil) = %s", w.URL())
			}
			all := pool(t, 0, 0, 0, 0, 0, 0)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if bg, ok := p.(Background); ok {
				go bg.Run(ctx)
			}
			var wg sync.WaitGroup
			for g := range 4 {
				wg.Go(func() { pickFromSubsets(t, p, all, uint64(g)) })
			}
			if rm, ok := p.(WorkerRemover); ok {
				wg.Go(func() {
					for i := range 50 {
						rm.RemoveWorker(all[i%len(all)].URL())
					}
				})
			}
			if ts, ok := p.(TreeSizer); ok {
				wg.Go(func() {
					for range 50 {
						ts.TreeSizes()
					}
				})
			}
			wg.Wait()
		})
	}
}

func pickFromSubsets(t *testing.T, p Policy, all []*worker.Worker, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	texts := []string{"", "hello", "hello world", "你好世界", strings.Repeat("long prompt ", 100)}
	for range 500 {
		var cands []*worker.Worker
		for _, w := range all {
			if rng.IntN(2) == 0 {
				cands = append(cands, w)
			}
		}
		got := p.Pick(cands, texts[rng.IntN(len(texts))])
		if len(cands) == 0 {
			if got != nil {
				t.Errorf("Pick(empty) = %s", got.URL())
			}
			continue
		}
		if !slices.Contains(cands, got) {
			t.Errorf("picked %s, not a candidate", urlOf(got))
			return
		}
		if rng.IntN(3) == 0 {
			got.Acquire()
			defer got.Release()
		}
	}
}
