package policy

import (
	"math/rand/v2"
	"sync/atomic"

	"github.com/sgl-project/sglang-router-go/go/worker"
)

// Random picks uniformly among the candidates.
type Random struct {
	intn func(int) int
}

// NewRandom returns a Random drawing from intn (uniform in [0, n), safe for
// concurrent use); nil means math/rand/v2.IntN.
func NewRandom(intn func(int) int) *Random { return &Random{intn: orIntN(intn)} }

func (*Random) Name() string    { return NameRandom }
func (*Random) NeedsText() bool { return false }

func (p *Random) Pick(cands []*worker.Worker, _ string) *worker.Worker {
	if len(cands) == 0 {
		return nil
	}
	return cands[p.intn(len(cands))]
}

// RoundRobin cycles through the candidates with one atomic counter: every
// cycle of len(candidates) picks visits each candidate once. When the
// candidate set changes, the cycle continues from the counter's position in
// the new set.
//
// A rotating RoundRobin shifts each cycle one place further than the last
// (pick n goes to (n + n/len) mod len). For one pool that is still round
// robin; paired with a plain RoundRobin (PD mode: prefill plain, decode
// rotating) it makes every prefill/decode pairing occur, where two plain
// counters moving in lockstep would repeat the same pairs forever.
type RoundRobin struct {
	next   atomic.Uint64
	rotate bool
}

// NewRoundRobin returns a RoundRobin starting at the first candidate;
// rotate as described on the type.
func NewRoundRobin(rotate bool) *RoundRobin { return &RoundRobin{rotate: rotate} }

func (*RoundRobin) Name() string    { return NameRoundRobin }
func (*RoundRobin) NeedsText() bool { return false }

func (p *RoundRobin) Pick(cands []*worker.Worker, _ string) *worker.Worker {
	if len(cands) == 0 {
		return nil
	}
	n, size := p.next.Add(1)-1, uint64(len(cands))
	if p.rotate {
		n += n / size
	}
	return cands[n%size]
}

// LeastLoad picks the candidate with the fewest requests in flight; ties
// rotate (the scan starts one place later on each pick), so an idle pool is
// still used evenly. The router uses it for the decode side of PD mode under
// cache_aware: decode workers hold no prefix worth following.
type LeastLoad struct {
	next atomic.Uint64
}

// NewLeastLoad returns a LeastLoad.
func NewLeastLoad() *LeastLoad { return &LeastLoad{} }

func (*LeastLoad) Name() string    { return NameLeastLoad }
func (*LeastLoad) NeedsText() bool { return false }

func (p *LeastLoad) Pick(cands []*worker.Worker, _ string) *worker.Worker {
	if len(cands) == 0 {
		return nil
	}
	start := int((p.next.Add(1) - 1) % uint64(len(cands)))
	best := cands[start]
	for i := 1; i < len(cands); i++ {
		if w := cands[(start+i)%len(cands)]; w.Load() < best.Load() {
			best = w
		}
	}
	return best
}

// PowerOfTwo draws two distinct candidates and picks the less loaded (the
// first drawn on a tie). Load is the worker's own /get_load report when the
// router polls it, corrected by the requests this router dispatched and saw
// finish since that poll (worker.EstimatedLoad), else the in-flight count.
type PowerOfTwo struct {
	intn func(int) int
}

// NewPowerOfTwo returns a PowerOfTwo drawing from intn (as NewRandom).
func NewPowerOfTwo(intn func(int) int) *PowerOfTwo { return &PowerOfTwo{intn: orIntN(intn)} }

func (*PowerOfTwo) Name() string    { return NamePowerOfTwo }
func (*PowerOfTwo) NeedsText() bool { return false }

func (p *PowerOfTwo) Pick(cands []*worker.Worker, _ string) *worker.Worker {
	switch len(cands) {
	case 0:
		return nil
	case 1:
		return cands[0]
	}
	i := p.intn(len(cands))
	j := p.intn(len(cands) - 1)
	if j >= i {
		j++ // distinct from i, uniform over the others
	}
	if load(cands[j]) < load(cands[i]) {
		return cands[j]
	}
	return cands[i]
}

func orIntN(intn func(int) int) func(int) int {
	if intn == nil {
		return rand.IntN
	}
	return intn
}

// load is the worker's estimated load: its polled /get_load figure
// corrected by this router's dispatches since, else the in-flight count.
func load(w *worker.Worker) int64 { return w.EstimatedLoad() }
