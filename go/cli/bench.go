package cli

import (
	"context"
	goflag "flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sgl-project/sglang-router-go/go/bench"
)

// runBench is `sglang-router bench`: the routed-vs-direct overhead benchmark.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := goflag.NewFlagSet("bench", goflag.ContinueOnError)
	fs.SetOutput(stderr)
	conc := fs.Int("concurrency", 8, "concurrent clients of the PD benchmark")
	dur := fs.Duration("duration", 3*time.Second, "measuring time per run")
	rounds := fs.Int("rounds", 3, "rounds of the proxy benchmark, in alternating order (at least 2)")
	self, _ := os.Executable()
	bin := fs.String("router", self, "router binary the proxy benchmark starts")
	baseline := fs.String("baseline", "", "a second router binary measured in the same rounds (target \"base\"), for before/after figures")
	onlyList := fs.String("only", "", "comma-separated scenarios to run: "+strings.Join(bench.Scenarios, ", ")+` ("small" is both small /generate runs); default all`)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	only, err := bench.ParseOnly(*onlyList)
	if err != nil {
		fmt.Fprintf(stderr, "bench: -only: %v\n", err)
		return 2
	}
	if *baseline != "" {
		if st, err := os.Stat(*baseline); err != nil || st.IsDir() {
			fmt.Fprintf(stderr, "bench: -baseline %s: not a router binary\n", *baseline)
			return 2
		}
	}
	if *rounds < 2 {
		fmt.Fprintln(stderr, "bench: -rounds must be at least 2: one round cannot tell a busy machine")
		return 2
	}
	o := bench.Options{Concurrency: *conc, Duration: *dur, Rounds: *rounds, RouterBin: *bin, BaselineBin: *baseline, Only: only, Out: stdout}
	runs := []func(context.Context, bench.Options) error{bench.Run}
	if o.Selected("pd") {
		runs = append(runs, bench.RunPD)
	}
	for _, run := range runs {
		if err := run(ctx, o); err != nil {
			fmt.Fprintf(stderr, "bench: %v\n", err)
			return 1
		}
	}
	return 0
}

// runDemo is `sglang-router demo`: the project's main job on simulated
// workers (a preset of the routing benchmark).
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := goflag.NewFlagSet("demo", goflag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "out", "folder for demo.svg and demo.md")
	workers := fs.Int("workers", 4, "simulated workers")
	policies := fs.String("policies", "", "comma-separated policies (default: all four)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	o := bench.DemoOptions{Out: stdout, OutDir: *out, Workers: *workers, Policies: split(*policies)}
	return exitCode(stderr, "demo", bench.Demo(ctx, o))
}

// runRouting is `sglang-router bench-routing`: routing quality of every
// policy on every workload, against the oracle.
func runRouting(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := goflag.NewFlagSet("bench-routing", goflag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "out", "folder for routing.svg and routing.md")
	workloads := fs.String("workloads", "", "comma-separated workloads (default: all)")
	policies := fs.String("policies", "", "comma-separated policies (default: all, with the original's rule)")
	scale := fs.Float64("time-scale", 0, "wall seconds per simulated second (default 0.5)")
	replicas := fs.String("replicas", "1", "comma-separated router replica counts, e.g. 1,3,8 (one router is always run too)")
	runs := fs.Int("runs", 1, "repeat every run this many times; each row shows the run with the median hit rate")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	counts, err := ints(*replicas)
	if err != nil {
		fmt.Fprintf(stderr, "bench-routing: -replicas: %v\n", err)
		return 2
	}
	o := bench.RoutingOptions{Out: stdout, OutDir: *out, Workloads: split(*workloads), Policies: split(*policies),
		TimeScale: *scale, Replicas: counts, Runs: *runs}
	return exitCode(stderr, "bench-routing", bench.Routing(ctx, o))
}

// exitCode reports err for command name and returns the process status.
func exitCode(stderr io.Writer, name string, err error) int {
	if err != nil {
		fmt.Fprintf(stderr, "%s: error: %v\n", name, err)
		return 1
	}
	return 0
}

// ints parses a comma-separated list of integers.
func ints(s string) ([]int, error) {
	var out []int
	for _, f := range split(s) {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
