package policy

import (
	"slices"
	"testing"
)

func TestRandomPicksTheDrawnIndex(t *testing.T) {
	p := NewRandom(script(2, 0, 5))
	ws := pool(t, 0, 0, 0)
	var got []string
	for range 3 {
		got = append(got, p.Pick(ws, "").URL())
	}
	want := []string{"http://w2", "http://w0", "http://w2"} // 5 % 3 == 2
	if !slices.Equal(got, want) {
		t.Fatalf("picks %v, want %v", got, want)
	}
}

func TestRoundRobinVisitsEachCandidateOncePerCycle(t *testing.T) {
	for _, rotate := range []bool{false, true} {
		testRoundRobinCycles(t, NewRoundRobin(rotate))
	}
}

func testRoundRobinCycles(t *testing.T, p *RoundRobin) {
	ws := pool(t, 0, 0, 0)
	for cycle := range 4 {
		seen := map[string]int{}
		for range 3 {
			seen[p.Pick(ws, "").URL()]++
		}
		if len(seen) != 3 {
			t.Fatalf("cycle %d picked %v, want each worker once", cycle, seen)
		}
	}
}

func TestRoundRobinPairsCoverEveryCombination(t *testing.T) {
	// PD mode: one round-robin per pool; plain counters of equal-size pools
	// would pair p0-d0 and p1-d1 forever.
	pre, dec := NewRoundRobin(false), NewRoundRobin(true)
	ps, ds := pool(t, 0, 0), pool(t, 0, 0)
	pairs := map[string]bool{}
	for range 4 {
		pairs[pre.Pick(ps, "").URL()+"+"+dec.Pick(ds, "").URL()] = true
	}
	if len(pairs) != 4 {
		t.Fatalf("4 requests made pairs %v, want all 4 pairings", pairs)
	}
}

func TestLeastLoadPicksFewestInFlightAndRotatesTies(t *testing.T) {
	p := NewLeastLoad()
	ws := pool(t, 2, 0, 1)
	if got := p.Pick(ws, "").URL(); got != "http://w1" {
		t.Fatalf("picked %s, want the idle w1", got)
	}
	idle := pool(t, 0, 0, 0)
	seen := map[string]bool{}
	for range 3 {
		seen[p.Pick(idle, "").URL()] = true
	}
	if len(seen) != 3 {
		t.Fatalf("ties went to %v, want rotation over all", seen)
	}
}

func TestPowerOfTwo(t *testing.T) {
	cases := []struct {
		name   string
		loads  []int // in-flight
		polled []int // -1: unknown
		draws  []int // first in [0,n), second in [0,n-1)
		want   string
	}{
		{"single candidate", []int{5}, []int{-1}, []int{0, 0}, "http://w0"},
		{"second draw less loaded", []int{3, 1, 2}, []int{-1, -1, -1}, []int{0, 0}, "http://w1"},
		{"first draw less loaded", []int{3, 1, 2}, []int{-1, -1, -1}, []int{2, 0}, "http://w2"},
		{"second draw skips the first", []int{3, 1, 0}, []int{-1, -1, -1}, []int{1, 1}, "http://w2"},
		{"tie keeps the first draw", []int{1, 1}, []int{-1, -1}, []int{1, 0}, "http://w1"},
		{"polled load wins over in-flight", []int{0, 9}, []int{50, 2}, []int{0, 0}, "http://w1"},
		{"polled load known for one only", []int{4, 9}, []int{-1, 2}, []int{0, 0}, "http://w1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ws := pool(t, c.loads...)
			for i, l := range c.polled {
				ws[i].SetPolledLoad(int64(l))
			}
			if got := NewPowerOfTwo(script(c.draws...)).Pick(ws, ""); urlOf(got) != c.want {
				t.Fatalf("picked %s, want %s", urlOf(got), c.want)
			}
		})
	}
}

func TestPowerOfTwoDrawsTwoDistinctWorkers(t *testing.T) {
	ws := pool(t, 0, 0, 0, 0)
	for first := range 4 {
		for second := range 3 {
			var drawn []int
			intn := func(n int) int {
				v := []int{first, second}[len(drawn)]
				drawn = append(drawn, v)
				return v
			}
			NewPowerOfTwo(intn).Pick(ws, "")
			j := drawn[1]
			if j >= drawn[0] {
				j++
			}
			if j == drawn[0] || j >= len(ws) {
				t.Fatalf("draws %v give the pair %d,%d", drawn, drawn[0], j)
			}
		}
	}
}
