package sim

import "testing"

// seq returns the ids from..from+n-1.
func seq(from, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = from + i
	}
	return out
}

func concat(parts ...[]int) []int {
	var out []int
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestPrefixCache(t *testing.T) {
	type step struct {
		op     string // "admit", "insert", "flush"
		ids    []int
		cached int // expected from admit
	}
	cases := []struct {
		name     string
		capacity int
		steps    []step
	}{
		{"first sight misses", 64, []step{{"admit", seq(0, 10), 0}}},
		{"repeat hits whole blocks only", 64, []step{
			{"admit", seq(0, 10), 0},
			{"admit", seq(0, 10), 8}, // 2 whole blocks of 4; the partial third is never cached
		}},
		{"a full hit leaves the last token to compute", 64, []step{
			{"admit", seq(0, 8), 0},
			{"admit", seq(0, 8), 4}, // 8 cached would leave nothing to compute
			{"admit", seq(0, 9), 8},
		}},
		{"shared prefix, different tail", 64, []step{
			{"admit", seq(0, 12), 0},
			{"admit", concat(seq(0, 8), seq(100, 8)), 8},
		}},
		{"a block's key covers every token before it", 64, []step{
			{"admit", concat(seq(0, 4), seq(50, 8)), 0},
			{"admit", concat(seq(10, 4), seq(50, 8)), 0}, // same second block, other first block
		}},
		{"overflow evicts the least recently used", 8, []step{
			{"admit", seq(0, 8), 0},
			{"admit", seq(100, 8), 0}, // fills the two blocks, evicting the first prompt
			{"admit", seq(0, 9), 0},
		}},
		{"eviction takes leaves first", 12, []step{
			{"admit", seq(0, 12), 0},                               // blocks a0 a1 a2
			{"admit", concat(seq(0, 4), seq(200, 4)), 4},           // a0 hits; b1 makes 4 blocks: leaf a2 goes
			{"admit", concat(seq(0, 12), seq(300, 1)), 8},          // a0 a1 still there, a2 not
			{"admit", concat(seq(0, 4), seq(200, 4), []int{9}), 4}, // b1 was evicted by a2's reinsertion
		}},
		{"flush empties", 64, []step{
			{"admit", seq(0, 10), 0},
			{"flush", nil, 0},
			{"admit", seq(0, 10), 0},
		}},
		{"finished output extends the cached prefix", 64, []step{
			{"admit", seq(0, 6), 0},
			{"insert", seq(0, 14), 0}, // prompt + output
			{"admit", seq(0, 20), 12},
		}},
		{"capacity zero disables caching", 0, []step{
			{"admit", seq(0, 10), 0},
			{"admit", seq(0, 10), 0},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newPrefixCache(tc.capacity, 4)
			for i, st := range tc.steps {
				switch st.op {
				case "admit":
					if got := c.admit(st.ids); got != st.cached {
						t.Fatalf("step %d: admit cached %d, want %d", i, got, st.cached)
					}
				case "insert":
					c.insert(st.ids)
				case "flush":
					c.flush()
				}
				if c.tokens() > c.capacity() {
					t.Fatalf("step %d: cache holds %d tokens, capacity %d", i, c.tokens(), c.capacity())
				}
			}
		})
	}
}

func TestPrefixCacheCapacityRoundsToBlocks(t *testing.T) {
	c := newPrefixCache(10, 4)
	if c.capacity() != 8 {
		t.Fatalf("capacity %d, want 8", c.capacity())
	}
	c.admit(seq(0, 40))
	if c.tokens() != 8 {
		t.Fatalf("tokens %d after overflow, want 8", c.tokens())
	}
}

// TestRunningRequestsShareTheCapacity: blocks held by running requests
// evict cached ones, and come back to the cache when given back.
func TestRunningRequestsShareTheCapacity(t *testing.T) {
	c := newPrefixCache(16, 4) // four blocks
	c.admit(seq(0, 12))        // three cached blocks
	held := c.hold(6)          // two blocks: one cached block must go
	if held != 2 || c.tokens() != 8 {
		t.Fatalf("held %d blocks, cache %d tokens; want 2 and 8", held, c.tokens())
	}
	if got := c.admit(seq(0, 13)); got != 8 || c.tokens() != 8 {
		t.Fatalf("after the hold the prompt hits %d tokens, cache %d; want 8 and 8 (its third block cannot stay)", got, c.tokens())
	}
	c.unhold(held)
	c.insert(seq(0, 16))
	if got := c.admit(seq(0, 17)); got != 16 {
		t.Fatalf("after unhold the cache holds %d of the prompt, want all 16", got)
	}
	if c.hold(100) != 25 || c.tokens() != 0 {
		t.Fatalf("a hold beyond the capacity empties the cache; %d tokens left", c.tokens())
	}
}
