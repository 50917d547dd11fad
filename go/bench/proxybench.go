package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// Options of the proxy benchmark.
type Options struct {
	Concurrency int // of the PD benchmark (the proxy scenarios fix their own)
	Duration    time.Duration
	// Rounds is how often every run is repeated, in alternating order.
	Rounds int
	// RouterBin is the router executable the benchmark starts (its own
	// binary by default).
	RouterBin string
	// BaselineBin, when set, is a second router executable measured in
	// the same rounds (target "base"), for a before/after comparison.
	BaselineBin string
	// Only, when set, names the scenarios to run (see Select); nil: all.
	Only []string
	// MinRequests, when > 0, makes each PD run last until that many
	// requests finished even past Duration (see Load.MinRequests).
	MinRequests int
	Out         io.Writer
}

// scenario is one request shape, sent by wrk with conns connections.
type scenario struct {
	key    string // what -only names it by
	name   string
	path   string
	bodies [][]byte
	conns  int
	policy string // the router's
	// compareTo names the scenario whose router run this one's CPU is
	// compared with, when nginx has no equivalent (cache_aware).
	compareTo string
}

const (
	smallC32  = "small /generate, c=32"
	bigRR     = "400 KB round_robin, c=4"
	bigCache  = "400 KB cache_aware, c=4"
	smallBody = `{"text":"What is the capital of France?","sampling_params":{"max_new_tokens":8}}`
)

func scenarios() []scenario {
	small := [][]byte{[]byte(smallBody)}
	chat := [][]byte{[]byte(`{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true}`)}
	big := bigBodies()
	return []scenario{
		{key: "small", name: smallC32, path: "/generate", bodies: small, conns: 32, policy: "round_robin"},
		{key: "small", name: "small /generate, c=1", path: "/generate", bodies: small, conns: 1, policy: "round_robin"},
		{key: "stream", name: "stream chat 64 events, c=8", path: "/v1/chat/completions", bodies: chat, conns: 8, policy: "round_robin"},
		{key: "large", name: bigRR, path: "/generate", bodies: big, conns: 4, policy: "round_robin"},
		{key: "cache_aware", name: bigCache, path: "/generate", bodies: big, conns: 4, policy: "cache_aware", compareTo: bigRR},
	}
}

// Scenarios is what Options.Only can name: "small" (both small /generate
// scenarios), "stream", "large" (400 KB round_robin), "cache_aware"
// (400 KB), and "pd" (the PD benchmark, RunPD).
var Scenarios = []string{"small", "stream", "large", "cache_aware", "pd"}

// ParseOnly splits a comma-separated list of Scenarios names; an unknown
// name is an error, and "" means all.
func ParseOnly(list string) ([]string, error) {
	var only []string
	for _, k := range strings.Split(list, ",") {
		k = strings.TrimSpace(k)
		if k == "" {
			continue
		}
		if !slices.Contains(Scenarios, k) {
			return nil, fmt.Errorf("unknown scenario %q (known: %s)", k, strings.Join(Scenarios, ", "))
		}
		only = append(only, k)
	}
	return only, nil
}

// Selected reports whether Only includes key (every key when Only is nil).
func (o Options) Selected(key string) bool { return o.Only == nil || slices.Contains(o.Only, key) }

// selected are the scenarios o runs.
func (o Options) selected() []scenario {
	var scs []scenario
	for _, sc := range scenarios() {
		if o.Selected(sc.key) {
			scs = append(scs, sc)
		}
	}
	return scs
}

// bigBodies are 16 distinct 400 KB prompts, cycled, so cache_aware's tree
// stays bounded and every request is a full match after the first round.
func bigBodies() [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	var big [][]byte
	for i := 0; i < 16; i++ {
		big = append(big, []byte(`{"text":"`+randomWords(rng, 400<<10)+`","sampling_params":{"max_new_tokens":1}}`))
	}
	return big
}

func randomWords(rng *rand.Rand, n int) string {
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(fmt.Sprintf("w%d ", rng.IntN(50000)))
	}
	return b.String()[:n]
}

// Run measures every scenario straight to the workers, through nginx and
// through the router, Rounds times in alternating order, with wrk as the
// load generator, and prints each run and then a summary table.
func Run(ctx context.Context, o Options) error {
	scs := o.selected()
	if len(scs) == 0 {
		return nil
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		return fmt.Errorf("wrk not found (the proxy benchmark's load generator): apt-get install wrk")
	}
	dir, err := os.MkdirTemp("", "sglang-router-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	workers, stopWorkers, err := startFastWorkers(2)
	if err != nil {
		return err
	}
	defer stopWorkers()
	env, err := startTargets(ctx, o, dir, workers, scs)
	defer env.stop()
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "proxy overhead: wrk -t1, %s per run, %d rounds in alternating order, two fast fake workers on loopback\n", o.Duration, o.Rounds)
	fmt.Fprintf(o.Out, "CPU is the proxy's own (from /proc), in CPU-seconds per 100k requests; 'busy' marks a run during which\n"+
		"other processes used more than %.0f%% of a core, 'spread' a figure whose rounds differ by more than %.0f%%\n\n",
		busyShare*100, (maxSpread-1)*100)
	fmt.Fprintf(o.Out, "%-28s %-7s %5s %9s %9s %9s %9s %8s\n", "scenario", "target", "round", "req/s", "p50", "p99", "CPU-s", "other")
	res := results{}
	for r := 0; r < o.Rounds; r++ {
		for _, sc := range scs {
			if err := env.round(ctx, o, dir, sc, r, res); err != nil {
				return err
			}
		}
	}
	res.summary(o.Out, scs, env.names())
	return nil
}

// startFastWorkers starts n fast fake workers on loopback.
func startFastWorkers(n int) ([]string, func(), error) {
	var urls []string
	var srvs []*http.Server
	stop := func() {
		for _, s := range srvs {
			s.Close()
		}
	}
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			stop()
			return nil, nil, err
		}
		srv := &http.Server{Handler: newFastWorker(64)}
		srvs = append(srvs, srv)
		go func() { _ = srv.Serve(ln) }()
		urls = append(urls, "http://"+ln.Addr().String())
	}
	return urls, stop, nil
}

// warm sends a few requests of sc to url, so connections and caches are
// set up before the measured run.
func warm(url string, sc scenario) {
	client := &http.Client{Timeout: 10 * time.Second}
	for i := 0; i < 2*len(sc.bodies)+8; i++ {
		resp, err := client.Post(url+sc.path, "application/json", bytes.NewReader(sc.bodies[i%len(sc.bodies)]))
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	client.CloseIdleConnections()
}
