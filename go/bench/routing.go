package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/sgl-project/sglang-router-go/go/config"
	"github.com/sgl-project/sglang-router-go/go/policy"
	"github.com/sgl-project/sglang-router-go/go/workload"
)

// RoutingOptions configure Routing, the routing-quality benchmark. Zero
// fields take the defaults listed.
type RoutingOptions struct {
	Out    io.Writer // progress lines and the tables; nil = discard
	OutDir string    // where routing.svg and routing.md go; default "out"

	Seed      uint64   // workloads and arrivals; default 1
	Workloads []string // workload names (workload.Name*); default AllWorkloads
	Policies  []string // default: AllPolicies
	Workers   int      // simulated workers; default 8
	// Replicas are the numbers of routers to run each policy with, all
	// over the same workers, each request sent to one at random (as a
	// Kubernetes Service would); default [1]. A list holding anything
	// else also runs one router first, the figure replicas are compared
	// with.
	Replicas []int
	// Runs repeats each workload's runs (oracle, policies, replica
	// counts) this many times; default 1. Each row of the reports is then
	// the run with the median hit rate, and every run's figures are listed
	// under the table: one run's replica rows move by several points.
	Runs int

	// Workload shapes; zero fields take each generator's defaults, and a
	// zero Seed takes the Seed above.
	SharedPrefix workload.SharedPrefix
	MultiTurn    workload.MultiTurn
	CodingChat   workload.MultiTurn // zero fields take workload.CodingChat's defaults
	NoSharing    workload.NoSharing

	Engine Engine // each worker's simulated hardware; default DefaultEngine
	// CacheFraction sizes the prefix caches: all workers together hold this
	// fraction of the workload's working set (default 0.5), so no policy
	// can keep everything everywhere.
	CacheFraction float64
	// Load is the offered load, as the fraction of the cluster's batch
	// slots the requests would occupy without any cache hit (default 0.7).
	// Rate, when set, is used instead.
	Load float64
	Rate float64 // requests per simulated second
	// TimeScale is wall seconds per simulated second (default 0.5: twice
	// as fast as real time); reported times are simulated. Negative: the
	// engines never sleep and requests are sent at once (tests).
	TimeScale      float64
	Arrival        string // ArrivalPoisson (default) or ArrivalUniform
	MaxConcurrency int    // cap on requests in flight, a safety; default 1024
}

// AllPolicies are the policies Routing compares, in report order: the
// three text-blind ones, the original router's cache-aware rule, and ours.
var AllPolicies = []string{policy.NameRandom, policy.NameRoundRobin, policy.NamePowerOfTwo,
	policy.NameCacheAwareOriginal, policy.NameCacheAware}

// AllWorkloads are the workloads Routing replays by default.
var AllWorkloads = []string{workload.NameSharedPrefix, workload.NameSkewedPrefix, workload.NameMultiTurn,
	workload.NameCodingChat, workload.NameNoSharing}

func (o RoutingOptions) withDefaults() RoutingOptions {
	if o.Out == nil {
		o.Out = io.Discard
	}
	o.OutDir = or(o.OutDir, "out")
	o.Seed = max(o.Seed, 1)
	if len(o.Workloads) == 0 {
		o.Workloads = slices.Clone(AllWorkloads)
	}
	if len(o.Policies) == 0 {
		o.Policies = slices.Clone(AllPolicies)
	}
	o.Workers = or(o.Workers, 8)
	o.Replicas = replicaCounts(o.Replicas)
	o.Runs = or(o.Runs, 1)
	o.Engine = o.Engine.withDefaults()
	o.CacheFraction = or(o.CacheFraction, 0.5)
	o.Load = or(o.Load, 0.7)
	o.TimeScale = or(o.TimeScale, 0.5)
	if o.TimeScale < 0 {
		o.TimeScale = 0
	}
	o.Arrival = or(o.Arrival, ArrivalPoisson)
	o.MaxConcurrency = or(o.MaxConcurrency, 1024)
	return o
}

// Routing replays each workload through each policy on a fresh simulated
// cluster, computes the oracle's hit rate, prints a table to Out and
// writes routing.svg and routing.md to OutDir.
func Routing(ctx context.Context, o RoutingOptions) error {
	o = o.withDefaults()
	if err := o.validate(); err != nil {
		return err
	}
	var beds []testbed
	for _, name := range o.Workloads {
		tb, err := o.testbed(name)
		if err != nil {
			return err
		}
		beds = append(beds, tb)
	}
	start := time.Now()
	fmt.Fprintf(o.Out, "routing quality: %d simulated workers, time scale %g (times below are simulated)\n\n", o.Workers, o.TimeScale)
	var all []RunResult
	var setups []string
	for _, tb := range beds {
		setups = append(setups, tb.describe())
		fmt.Fprintln(o.Out, tb.describe())
		res, err := tb.repeat(ctx, o.Runs, o.Policies, o.Replicas, newProgressWriter(o.Out))
		all = append(all, res...)
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(o.Out, "\n")
	writeTable(o.Out, all, true)
	fmt.Fprintf(o.Out, "\ntotal wall time %s\n", time.Since(start).Round(time.Second))
	return writeReports(o.Out, o.OutDir, "routing", "Routing quality", setups, all, true)
}

// compare computes the oracle, then runs every policy with every replica
// count.
func (s testbed) compare(ctx context.Context, policies []string, replicas []int, pr *progressWriter) ([]RunResult, error) {
	oracle, err := s.oracleHitRate()
	if err != nil {
		return nil, err
	}
	res, err := s.runAll(ctx, policies, replicas, pr, oracle)
	return append([]RunResult{{Workload: s.wl.Name, Policy: PolicyOracle, OracleHitRate: oracle}}, res...), err
}

// repeat runs compare n times and merges the runs (medianRuns); on an
// error it returns what the failed run gathered.
func (s testbed) repeat(ctx context.Context, n int, policies []string, replicas []int, pr *progressWriter) ([]RunResult, error) {
	var runs [][]RunResult
	for range n {
		res, err := s.compare(ctx, policies, replicas, pr)
		if err != nil {
			return res, err
		}
		runs = append(runs, res)
	}
	return medianRuns(runs), nil
}

// validate fails fast on options no run could use (workload names are
// checked when the workloads are built, before any run).
func (o RoutingOptions) validate() error {
	for _, n := range o.Policies {
		if !slices.Contains(config.Policies, n) && n != policy.NameCacheAwareOriginal {
			return fmt.Errorf("unknown policy %q (choose from %v)", n, AllPolicies)
		}
	}
	switch {
	case o.Arrival != ArrivalPoisson && o.Arrival != ArrivalUniform:
		return fmt.Errorf("arrival must be %s or %s, got %q", ArrivalPoisson, ArrivalUniform, o.Arrival)
	case o.CacheFraction < 0 || o.Load < 0 || o.Rate < 0 || o.Workers < 1:
		return fmt.Errorf("cache fraction, load and rate must be positive, workers at least 1")
	case slices.Min(o.Replicas) < 1 || slices.Max(o.Replicas) > maxReplicas:
		return fmt.Errorf("replicas must be between 1 and %d, got %v", maxReplicas, o.Replicas)
	case o.Runs < 1 || o.Runs > maxRuns:
		return fmt.Errorf("runs must be between 1 and %d, got %d", maxRuns, o.Runs)
	}
	return nil
}

// maxReplicas bounds the routers one run starts (each is a whole router
// in this process).
const maxReplicas = 64

// maxRuns bounds Runs: a full comparison already takes minutes.
const maxRuns = 20

// replicaCounts returns the replica counts to run: sorted, without
// repeats, starting with 1 (the single-router reference); [1] when empty.
func replicaCounts(rs []int) []int {
	out := append([]int{1}, rs...)
	slices.Sort(out)
	return slices.Compact(out)
}

// PolicyOracle names the oracle's row: one worker with every worker's cache.
const PolicyOracle = "oracle"

// generate builds the named workload; generators without a seed of their
// own take the benchmark's.
func (o RoutingOptions) generate(name string) (workload.Workload, error) {
	sp, mt, ns, cc := o.SharedPrefix, o.MultiTurn, o.NoSharing, workload.CodingChat(o.CodingChat)
	sp.Seed, mt.Seed, ns.Seed, cc.Seed = or(sp.Seed, o.Seed), or(mt.Seed, o.Seed), or(ns.Seed, o.Seed), or(cc.Seed, o.Seed)
	switch name {
	case workload.NameSharedPrefix:
		return sp.Generate(), nil
	case workload.NameSkewedPrefix:
		sp.Skew = workload.SkewedPrefix().Skew
		return sp.Generate(), nil
	case workload.NameMultiTurn:
		return mt.Generate(), nil
	case workload.NameCodingChat:
		return cc.Generate(), nil
	case workload.NameNoSharing:
		return ns.Generate(), nil
	}
	return workload.Workload{}, fmt.Errorf("unknown workload %q (choose from %v)", name, AllWorkloads)
}

// testbed builds the named workload and sizes the cluster for it.
func (o RoutingOptions) testbed(name string) (testbed, error) {
	wl, err := o.generate(name)
	if err != nil {
		return testbed{}, err
	}
	s := testbed{
		wl: wl, workers: o.Workers, engine: o.Engine, timeScale: o.TimeScale,
		arrival: o.Arrival, maxConc: o.MaxConcurrency, seed: o.Seed,
		cacheTokens: max(int(o.CacheFraction*float64(wl.WorkingSetTokens))/o.Workers, 1),
		rate:        o.Rate,
	}
	s.batchTokens = s.engine.MaxRunning * s.meanRequestTokens()
	if s.rate == 0 {
		s.rate = s.rateForLoad(o.Load)
	}
	return s, nil
}

// meanRequestTokens is a request's mean KV footprint: prompt and output.
func (s testbed) meanRequestTokens() int {
	return (s.wl.PromptTokens() + s.wl.OutputTokens()) / max(len(s.wl.Requests), 1)
}

// maxRequestTokens is the largest request's KV footprint.
func (s testbed) maxRequestTokens() int {
	n := 0
	for _, r := range s.wl.Requests {
		n = max(n, r.PromptTokens+r.OutputTokens)
	}
	return n
}

// rateForLoad is the arrival rate (per simulated second) at which the
// requests, served without any cache hit, would keep load of the
// cluster's batch slots busy.
func (s testbed) rateForLoad(load float64) float64 {
	e := s.engine
	batch := max(load*float64(e.MaxRunning), 1)
	step := (1 + e.DecodeBatchSlope*(batch-1)) / e.DecodeTokensPerSec
	service := 0.0
	for _, r := range s.wl.Requests {
		service += float64(r.PromptTokens)/e.PrefillTokensPerSec + float64(r.OutputTokens)*step
	}
	service /= float64(max(len(s.wl.Requests), 1))
	return load * float64(s.workers*e.MaxRunning) / service
}

// describe is the testbed's one-line setup for the reports.
func (s testbed) describe() string {
	return fmt.Sprintf("%s: %d requests (%d prompt + %d output tokens), working set %d tokens, cache %d tokens/worker (%d in all) beside a full batch's KV (%d tokens), %.1f req/s offered (%s), batch %d/worker",
		s.wl.Name, len(s.wl.Requests), s.wl.PromptTokens(), s.wl.OutputTokens(), s.wl.WorkingSetTokens,
		s.cacheTokens, s.cacheTokens*s.workers, s.batchTokens, s.rate, s.arrival, s.engine.MaxRunning)
}

// writeReports writes name.svg and name.md into dir and prints their paths.
func writeReports(out io.Writer, dir, name, title string, setups []string, res []RunResult, byWorkload bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	svgPath, mdPath := filepath.Join(dir, name+".svg"), filepath.Join(dir, name+".md")
	if err := os.WriteFile(svgPath, chartSVG(title, res), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(mdPath, markdownReport(title, name+".svg", setups, res, byWorkload), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(out, "chart: %s\nreport: %s\n", svgPath, mdPath)
	return nil
}

// or returns v, or def when v is the zero value (an option left unset).
func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
