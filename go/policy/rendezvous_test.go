package policy

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sgl-project/sglang-router-go/go/worker"
)

// TestMissPlacementAgreesAcrossReplicas: two CacheAware instances with
// different histories (so different trees) place every new prefix on the
// same worker, the property that lets router replicas agree without
// talking.
func TestMissPlacementAgreesAcrossReplicas(t *testing.T) {
	a, b := NewCacheAware(DefaultOptions()), NewCacheAware(DefaultOptions())
	ws := pool(t, 0, 0, 0, 0, 0, 0, 0, 0)
	for i := range 50 { // only a has a history
		a.Pick(ws, fmt.Sprintf("old prompt %d %s", i, strings.Repeat("x", i)))
	}
	for i := range 200 {
		text := fmt.Sprintf("system prompt number %d, the same for the whole group; then a question", i)
		if wa, wb := a.Pick(ws, text), b.Pick(ws, text); wa != wb {
			t.Fatalf("prefix %d: replica a picked %s, b %s", i, wa.URL(), wb.URL())
		}
	}
}

// TestMissPlacementSpreadsAndMovesLittle: new prefixes spread evenly, and
// when a worker leaves only the prefixes it held move.
func TestMissPlacementSpreadsAndMovesLittle(t *testing.T) {
	ws := pool(t, 0, 0, 0, 0, 0, 0, 0, 0)
	none := func(*worker.Worker) bool { return true }
	count := map[*worker.Worker]int{}
	const keys = 8000
	placed := make([]*worker.Worker, keys)
	for i := range keys {
		placed[i] = rendezvous(ws, keyHash(fmt.Sprintf("prefix %d", i)), none)
		count[placed[i]]++
	}
	for _, w := range ws {
		if n := count[w]; n < keys/8*8/10 || n > keys/8*12/10 {
			t.Errorf("%s holds %d of %d prefixes; want within 20%% of %d", w.URL(), n, keys, keys/8)
		}
	}
	rest := slices.Delete(slices.Clone(ws), 3, 4)
	for i := range keys {
		w := rendezvous(rest, keyHash(fmt.Sprintf("prefix %d", i)), none)
		if placed[i] != ws[3] && w != placed[i] {
			t.Fatalf("prefix %d moved from %s to %s though its worker stayed", i, placed[i].URL(), w.URL())
		}
	}
}

func TestMissKeyIsTheLeadingBlock(t *testing.T) {
	block := strings.Repeat("s", missKeyBytes)
	if keyHash(block+"one") != keyHash(block+"two") || keyHash("short one") == keyHash("short two") {
		t.Error("the key must be the first missKeyBytes bytes, the whole text when shorter")
	}
}

// TestStickySessionMovesOnceAndComesBack: a session stays on its worker,
// moves to the same next worker on every replica when its worker is hot
// or gone, and comes back when it recovers.
func TestStickySessionMovesOnceAndComesBack(t *testing.T) {
	ws := pool(t, 0, 0, 0, 0)
	home := Sticky(ws, "conversation-1")
	if home == nil || Sticky(ws, "conversation-1") != home {
		t.Fatal("a session must always map to the same worker")
	}
	rest := slices.DeleteFunc(slices.Clone(ws), func(w *worker.Worker) bool { return w == home })
	moved := Sticky(rest, "conversation-1")
	if moved == nil || moved == home {
		t.Fatalf("with its worker gone the session went to %v", moved)
	}
	home.Acquire()
	home.StartPrefill() // busy 5, but a session goes by load (1): not hot
	if got := Sticky(ws, "conversation-1"); got != home {
		t.Fatalf("a request waiting for its first token moved the session to %s", urlOf(got))
	}
	home.EndPrefill()
	home.Release()
	for range 3 { // hot: 3 > 1.25 * 0.75 + 1
		home.Acquire()
	}
	if got := Sticky(ws, "conversation-1"); got != moved {
		t.Fatalf("with its worker hot the session went to %s, want the same next worker %s", urlOf(got), moved.URL())
	}
	for range 3 {
		home.Release()
	}
	if Sticky(ws, "conversation-1") != home {
		t.Fatal("the session should come back to its recovered worker")
	}
	if Sticky(nil, "x") != nil {
		t.Fatal("no candidates: nil")
	}
}

func TestCacheAwareDecideSessionBeatsTheTree(t *testing.T) {
	p := NewCacheAware(DefaultOptions())
	ws := pool(t, 0, 0, 0, 0)
	first, why := p.Decide(ws, Request{Text: "shared system prompt, question one"})
	if why != CacheMiss {
		t.Fatalf("first request: %v", why)
	}
	key := ""
	for i := 0; key == "" || Sticky(ws, key) == first; i++ {
		key = fmt.Sprintf("s%d", i)
	}
	w, why := p.Decide(ws, Request{Text: "shared system prompt, question one", Session: key})
	if w != Sticky(ws, key) || why != Session {
		t.Fatalf("session request went to %s (%v), want %s (session)", w.URL(), why, Sticky(ws, key).URL())
	}
	if w, why := p.Decide(ws, Request{Text: "shared system prompt, question one"}); why != CacheHit || (w != first && w != Sticky(ws, key)) {
		t.Fatalf("without the session: %s (%v), want a hit on a worker that holds the prefix", w.URL(), why)
	}
	if w, why := p.Decide(nil, Request{Text: "x"}); w != nil || why != ReasonNone {
		t.Fatalf("no candidates: %v %v", w, why)
	}
}

// TestCacheAwareHitsGoToTheTenantRankedFirst: of several tenants that are
// not hot, the one rendezvous hashing ranks first for the text wins
// whatever their loads, so replicas that know different tenants of a
// prefix still converge on one.
func TestCacheAwareHitsGoToTheTenantRankedFirst(t *testing.T) {
	for _, text := range []string{"hello world", "another prompt", "a third one", "and a fourth"} {
		p := NewCacheAware(DefaultOptions())
		ws := pool(t, 1, 2, 0, 1)
		tenants := []*worker.Worker{ws[0], ws[1], ws[3]}
		for _, w := range tenants {
			p.tree.Insert(text, w.URL())
		}
		w, why := p.Decide(ws, Request{Text: text})
		if want := refPlace(text, tenants); w.URL() != want || why != CacheHit {
			t.Errorf("%q: %s (%v), want %s (cache_hit)", text, w.URL(), why, want)
		}
	}
}

// TestHotIsJudgedByThePolledLoad: a worker this router sends nothing to is
// still hot when its own load says so: replicas share that figure.
func TestHotIsJudgedByThePolledLoad(t *testing.T) {
	ws := pool(t, 0, 0, 0, 0)
	home := Sticky(ws, "s")
	home.SetPolledLoad(40)
	for _, w := range ws {
		if w != home {
			w.SetPolledLoad(10)
		}
	}
	if got := Sticky(ws, "s"); got == home {
		t.Fatalf("a worker polled at 40 against 10 elsewhere should be hot")
	}
	home.SetPolledLoad(-1) // the poll failed: this router's own count (0)
	if Sticky(ws, "s") != home {
		t.Fatal("without a polled figure the in-flight count decides")
	}
}
