package main

import (
	"context"
	goflag "flag"
	"fmt"
	"io"
	"time"

	"github.com/sgl-project/sglang-router-go/go/bench"
)

// runBench is `sglang-router bench`: the routed-vs-direct overhead benchmark.
func runBench(args []string, stdout, stderr io.Writer) int {
	fs := goflag.NewFlagSet("bench", goflag.ContinueOnError)
	fs.SetOutput(stderr)
	conc := fs.Int("concurrency", 8, "concurrent clients")
	dur := fs.Duration("duration", 3*time.Second, "measuring time per run")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := bench.Run(context.Background(), bench.Options{Concurrency: *conc, Duration: *dur, Out: stdout}); err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	return 0
}
