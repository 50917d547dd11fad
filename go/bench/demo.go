package bench

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/sgl-project/sglang-router-go/go/policy"
	"github.com/sgl-project/sglang-router-go/go/workload"
)

// DemoOptions configure Demo. Zero fields take the defaults listed.
type DemoOptions struct {
	Out    io.Writer // progress and the table; nil = discard
	OutDir string    // the chart goes to OutDir/demo.svg; default "out"
	Seed   uint64    // default 1

	Workers  int      // simulated workers; default 4
	Policies []string // default random, round_robin, power_of_two, cache_aware

	Groups          int // shared-prefix groups; default 16
	PromptsPerGroup int // default 8

	TimeScale float64 // see RoutingOptions.TimeScale; default 0.5
	Load      float64 // see RoutingOptions.Load; default 0.7
}

// DemoPolicies are the user-facing policies the demo compares.
var DemoPolicies = []string{policy.NameRandom, policy.NameRoundRobin, policy.NamePowerOfTwo, policy.NameCacheAware}

// Demo is the project's first command: simulated workers, the router in
// front of them, and a shared-prefix workload replayed through each
// policy; it prints a table and writes a chart. It is a small preset of
// Routing.
func Demo(ctx context.Context, o DemoOptions) error {
	ro := RoutingOptions{
		Out: o.Out, OutDir: o.OutDir, Seed: o.Seed, Workers: or(o.Workers, 4),
		Policies:     o.Policies,
		SharedPrefix: workload.SharedPrefix{Groups: or(o.Groups, 16), PromptsPerGroup: or(o.PromptsPerGroup, 8)},
		TimeScale:    o.TimeScale, Load: o.Load,
	}
	if len(ro.Policies) == 0 {
		ro.Policies = slices.Clone(DemoPolicies)
	}
	ro = ro.withDefaults()
	if err := ro.validate(); err != nil {
		return err
	}
	start := time.Now()
	tb, err := ro.testbed(workload.NameSharedPrefix)
	if err != nil {
		return err
	}
	fmt.Fprintf(ro.Out, "sglang-router demo: %d simulated SGLang workers behind the router, one run per policy.\n", ro.Workers)
	fmt.Fprintf(ro.Out, "Workload: %d groups x %d prompts sharing a %d-token system prompt per group, arriving shuffled.\n",
		ro.SharedPrefix.Groups, ro.SharedPrefix.PromptsPerGroup, ro.SharedPrefix.WithDefaults().SystemTokens)
	fmt.Fprintf(ro.Out, "%s\n\n", tb.describe())
	res, err := tb.compare(ctx, ro.Policies, []int{1}, newProgressWriter(ro.Out))
	if err != nil {
		return err
	}
	if ro.TimeScale > 0 {
		fmt.Fprintf(ro.Out, "\nTimes are simulated: the engines ran %gx faster than real time and every time is scaled back.\n", 1/ro.TimeScale)
	}
	fmt.Fprintln(ro.Out)
	writeTable(ro.Out, res, false)
	fmt.Fprintf(ro.Out, "\ndemo wall time %s\n", time.Since(start).Round(100*time.Millisecond))
	return writeReports(ro.Out, ro.OutDir, "demo", "sglang-router demo: shared-prefix workload", []string{tb.describe()}, res, false)
}
