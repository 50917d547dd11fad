package cli

import (
	"context"
	"encoding/json"
	goflag "flag"
	"fmt"
	"io"
	"strings"

	"github.com/sgl-project/sglang-router-go/go/sim"
)

// runSim is `sglang-router sim`: simulated SGLang servers until Ctrl-C.
// Common settings have flags; -config takes any sim.Config as JSON.
func runSim(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := goflag.NewFlagSet("sim", goflag.ContinueOnError)
	fs.SetOutput(stderr)
	raw := fs.String("config", "", "sim.Config as JSON (other flags override it)")
	workers := fs.Int("workers", 2, "number of servers")
	role := fs.String("role", "regular", "regular, prefill or decode")
	host := fs.String("host", "127.0.0.1", "listen address")
	port := fs.Int("base-port", 0, "server i listens on base-port+i (0: free ports)")
	scale := fs.Float64("time-scale", 1, "multiplier of simulated durations (0: instant)")
	capacity := fs.Int("cache-capacity-tokens", 0, "prefix cache size per server (per rank with --dp-size; 0: default)")
	dpSize := fs.Int("dp-size", 1, "data-parallel ranks per server (SGLang with --enable-dp-attention), each with its own cache; route with --dp-aware")
	boot := fs.Int("bootstrap-port", 0, "prefill: server i serves bootstrap queries on bootstrap-port+i (0: free ports)")
	defBoot := fs.Int("disaggregation-bootstrap-port", 8998, "decode: the bootstrap port assumed when the router sends none (as SGLang's flag)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	data := []byte(*raw)
	if len(data) == 0 {
		data = []byte("{}")
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		fmt.Fprintf(stderr, "sim: -config: %v\n", err)
		return 2
	}
	// A flag given on the command line wins; a flag left at its default
	// fills in only what -config does not say.
	values := map[string]any{"workers": *workers, "role": *role, "host": *host, "base_port": *port,
		"time_scale": *scale, "cache_capacity_tokens": *capacity, "bootstrap_port": *boot,
		"disaggregation_bootstrap_port": *defBoot, "dp_size": *dpSize}
	set := map[string]bool{}
	fs.Visit(func(f *goflag.Flag) { set[strings.ReplaceAll(f.Name, "-", "_")] = true })
	for k, v := range values {
		if _, given := m[k]; set[k] || !given {
			m[k] = v
		}
	}
	data, _ = json.Marshal(m)
	cfg, err := sim.ParseConfig(data)
	if err != nil {
		fmt.Fprintf(stderr, "sim: %v\n", err)
		return 2
	}
	c, err := sim.StartCluster(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "sim: %v\n", err)
		return 1
	}
	for i, u := range c.URLs() {
		line := fmt.Sprintf("simulated %s server %d: %s", cfg.Role, i, u)
		if p := c.BootstrapPorts()[i]; p != 0 {
			line += fmt.Sprintf(" (bootstrap port %d)", p)
		}
		fmt.Fprintln(stdout, line)
	}
	<-c.Done()
	return 0
}
