package bench

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// RunResult is one workload replayed through one policy. Durations are in
// simulated time: wall time divided by the run's time scale (wall time
// when the scale is 0), so they read as a real cluster's would.
type RunResult struct {
	Workload string
	Policy   string
	Replicas int    // routers sharing the workers (0 or 1: one router)
	Requests int    // requests sent
	Errors   int    // requests that failed (status, transport, cut stream)
	FirstErr string // the first failure, for the report

	Elapsed   time.Duration   // from the first send to the last completion
	TTFT, E2E []time.Duration // of successful requests, sorted

	// The engines' own counters, summed over the workers.
	PromptTokens, CachedTokens, OutputTokens int64
	PerWorker                                []int64 // requests completed by each worker
	// EngineTTFT is the engines' own mean time to first token (batch
	// queue, prefill-lane wait and prefill); TTFTMean minus it is what the
	// router and HTTP add.
	EngineTTFT time.Duration

	OracleHitRate float64 // the oracle's hit rate on the same workload (0: unknown)
	// SingleHitRate is the hit rate of the same policy behind one router
	// (0: unknown), the figure replicas are measured against.
	SingleHitRate float64

	// Repeats holds every run's figures, in run order, when the row was
	// chosen among repeated runs (RoutingOptions.Runs > 1); nil otherwise.
	Repeats []RunFigures
}

// RunFigures are the figures of one run that move most between runs.
type RunFigures struct {
	OfOracle, OfSingle, Balance float64
	TTFTP99                     time.Duration
}

func (r RunResult) figures() RunFigures {
	return RunFigures{OfOracle: r.OfOracle(), OfSingle: r.OfSingle(), Balance: r.Balance(), TTFTP99: r.TTFTQuantile(0.99)}
}

// medianRuns merges repeated runs of one workload, whose rows come in the
// same order, into one row each: the run with the median hit rate (the
// lower of the middle two for an even count), whole, so that its figures
// belong together, with every run's figures in Repeats. Oracle rows are
// the same in every run and get no Repeats.
func medianRuns(runs [][]RunResult) []RunResult {
	if len(runs) < 2 {
		return slices.Concat(runs...)
	}
	out := make([]RunResult, len(runs[0]))
	for i := range out {
		rows := make([]RunResult, len(runs))
		figs := make([]RunFigures, len(runs))
		for k, run := range runs {
			rows[k], figs[k] = run[i], run[i].figures()
		}
		slices.SortStableFunc(rows, func(a, b RunResult) int { return cmp.Compare(a.HitRate(), b.HitRate()) })
		out[i] = rows[(len(rows)-1)/2]
		if out[i].Policy != PolicyOracle {
			out[i].Repeats = figs
		}
	}
	return out
}

// Label names the run in reports: the policy, with the replica count when
// several routers shared the workers.
func (r RunResult) Label() string { return runLabel(r.Policy, r.Replicas) }

func runLabel(policy string, replicas int) string {
	if replicas <= 1 {
		return policy
	}
	return fmt.Sprintf("%s x%d replicas", policy, replicas)
}

// OfSingle is HitRate as a fraction of the single router's (0 when unknown).
func (r RunResult) OfSingle() float64 { return ratio(r.HitRate(), r.SingleHitRate) }

// HitRate is the cluster's cache hit rate: cached prompt tokens over
// prompt tokens.
func (r RunResult) HitRate() float64 { return ratio(float64(r.CachedTokens), float64(r.PromptTokens)) }

// OfOracle is HitRate as a fraction of the oracle's (0 when unknown).
func (r RunResult) OfOracle() float64 { return ratio(r.HitRate(), r.OracleHitRate) }

// Succeeded is the number of requests that completed.
func (r RunResult) Succeeded() int { return len(r.TTFT) }

// RPS is completed requests per (simulated) second.
func (r RunResult) RPS() float64 { return ratio(float64(r.Succeeded()), r.Elapsed.Seconds()) }

// TokPS is output tokens per (simulated) second.
func (r RunResult) TokPS() float64 { return ratio(float64(r.OutputTokens), r.Elapsed.Seconds()) }

// TTFTMean is the mean time to first token.
func (r RunResult) TTFTMean() time.Duration { return mean(r.TTFT) }

// TTFTQuantile is the q-quantile of time to first token (nearest rank).
func (r RunResult) TTFTQuantile(q float64) time.Duration { return quantile(r.TTFT, q) }

// Balance is the busiest worker's request count over the mean (1 is a
// perfect spread; 0 without traffic).
func (r RunResult) Balance() float64 {
	if len(r.PerWorker) == 0 {
		return 0
	}
	var sum, hi int64
	for _, n := range r.PerWorker {
		sum += n
		hi = max(hi, n)
	}
	return ratio(float64(hi)*float64(len(r.PerWorker)), float64(sum))
}

// overloaded reports the mean time to first token spent outside the
// engines, and whether it is large enough to distort the comparison
// (a quarter of the engines' own time, and at least 20 ms).
func (r RunResult) overloaded() (time.Duration, bool) {
	if r.Policy == PolicyOracle || r.Succeeded() == 0 {
		return 0, false
	}
	d := r.TTFTMean() - r.EngineTTFT
	return d, d > 20*time.Millisecond && d > r.EngineTTFT/4
}

func mean(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(len(ds))
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// simulated converts a wall duration into simulated time.
func simulated(d time.Duration, scale float64) time.Duration {
	if scale <= 0 {
		return d
	}
	return time.Duration(float64(d) / scale)
}
