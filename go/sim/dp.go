package sim

import (
	"encoding/json"
	"sync/atomic"
)

// maxDPSize bounds Config.DPSize: each rank holds its own prefix cache.
const maxDPSize = 64

// rankCaches are the prefix caches of a server's data-parallel ranks
// (SGLang with data-parallel attention: each rank has its own KV cache and
// radix tree), one per rank, and the round-robin counter that picks a rank
// for a request that names none, as SGLang's default data-parallel
// controller does. A server without data parallelism has one rank. Safe
// for concurrent use.
type rankCaches struct {
	ranks []*prefixCache
	next  atomic.Uint64
}

func newRankCaches(dpSize, capacityTokens, blockSize int) *rankCaches {
	rc := &rankCaches{ranks: make([]*prefixCache, max(dpSize, 1))}
	for i := range rc.ranks {
		rc.ranks[i] = newPrefixCache(capacityTokens, blockSize)
	}
	return rc
}

// roundRobin returns the next rank in turn.
func (rc *rankCaches) roundRobin() int {
	return int((rc.next.Add(1) - 1) % uint64(len(rc.ranks)))
}

func (rc *rankCaches) admit(rank int, prompt []int) int { return rc.ranks[rank].admit(prompt) }
func (rc *rankCaches) insert(rank int, ids []int)       { rc.ranks[rank].insert(ids) }

// flush empties every rank's cache.
func (rc *rankCaches) flush() {
	for _, c := range rc.ranks {
		c.flush()
	}
}

// tokens is how many tokens all ranks hold.
func (rc *rankCaches) tokens() int {
	n := 0
	for _, c := range rc.ranks {
		n += c.tokens()
	}
	return n
}

// capacity is the size of all ranks' caches in tokens.
func (rc *rankCaches) capacity() int { return len(rc.ranks) * rc.ranks[0].capacity() }

// perRank is one rank's cache size in tokens (SGLang's
// max_total_num_tokens is per rank).
func (rc *rankCaches) perRank() int { return rc.ranks[0].capacity() }

// ranksFor decides the rank of each of n jobs: the request's
// data_parallel_rank for all when it names one (an integer in
// [0, dp_size), else 400, as SGLang checks), else on a prefill server the
// bootstrap room's rank (room % dp_size, SGLang's default there, which the
// decode side relies on to find the KV cache), else round robin per job.
func (s *Server) ranksFor(raw json.RawMessage, refs []*roomRef, n int) ([]int, error) {
	dp := len(s.eng.cache.ranks)
	out := make([]int, n)
	if !isNull(raw) {
		var r int
		if err := json.Unmarshal(raw, &r); err != nil || r < 0 || r >= dp {
			return nil, badRequest("data_parallel_rank must be an integer in [0, %d) (dp_size %d), got %s", dp, dp, quoteRaw(raw))
		}
		for i := range out {
			out[i] = r
		}
		return out, nil
	}
	for i := range out {
		if refs != nil && s.cfg.Role == RolePrefill {
			out[i] = int(refs[i].room % uint64(dp))
		} else {
			out[i] = s.eng.cache.roundRobin()
		}
	}
	return out, nil
}

// quoteRaw is at most 64 bytes of a raw JSON value, for an error message.
func quoteRaw(raw json.RawMessage) string {
	if len(raw) > 64 {
		return string(raw[:64]) + "..."
	}
	return string(raw)
}
