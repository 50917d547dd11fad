package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/sgl-project/sglang-router-go/go/app"
	"github.com/sgl-project/sglang-router-go/go/config"
	"github.com/sgl-project/sglang-router-go/go/logging"
	"github.com/sgl-project/sglang-router-go/go/proxy"
)

// Options of the proxy benchmark.
type Options struct {
	Concurrency int
	Duration    time.Duration
	// MinRequests, when > 0, makes each run last until that many requests
	// finished even past Duration (see Load.MinRequests).
	MinRequests int
	Out         io.Writer
}

// scenario is one request shape sent direct and routed.
type scenario struct {
	name     string
	path     string
	bodies   [][]byte
	variants []variant // routed runs; the first is compared with direct, the others with the first
}

// variant is one router configuration of a scenario.
type variant struct {
	name  string
	apply func(*config.Config)
}

func withPolicy(name string) variant {
	return variant{"routed " + name, func(c *config.Config) { c.Policy = name }}
}

// quiet is the router with metrics recording off and logs at error level:
// against the default (metrics on, info) it prices observability.
var quiet = variant{"metrics off, log error", func(c *config.Config) {
	c.Policy, c.DisableMetrics, c.LogLevel = config.PolicyRoundRobin, true, "error"
}}

func scenarios() []scenario {
	rng := rand.New(rand.NewPCG(1, 2))
	var big [][]byte
	for i := 0; i < 16; i++ { // distinct 400 KB prompts, cycled, so the tree stays bounded
		big = append(big, []byte(`{"text":"`+randomWords(rng, 400<<10)+`","sampling_params":{"max_new_tokens":1}}`))
	}
	return []scenario{
		{"small /generate", "/generate", [][]byte{[]byte(`{"text":"What is the capital of France?","sampling_params":{"max_new_tokens":8}}`)}, []variant{withPolicy("round_robin"), quiet}},
		{"stream chat, 64 events", "/v1/chat/completions", [][]byte{[]byte(`{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true}`)}, []variant{withPolicy("round_robin")}},
		{"400 KB prompt", "/generate", big, []variant{withPolicy("round_robin"), withPolicy("cache_aware")}},
	}
}

func randomWords(rng *rand.Rand, n int) string {
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(fmt.Sprintf("w%d ", rng.IntN(50000)))
	}
	return b.String()[:n]
}

// Run measures every scenario direct and routed and prints a table.
func Run(ctx context.Context, o Options) error {
	fw := newFastWorker(64)
	wln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	wsrv := &http.Server{Handler: fw}
	go func() { _ = wsrv.Serve(wln) }()
	defer wsrv.Close()
	workerURL := "http://" + wln.Addr().String()
	client := &http.Client{Transport: proxy.NewTransport()}
	defer client.CloseIdleConnections()

	fmt.Fprintf(o.Out, "router overhead, concurrency %d, %s per run, one fast fake worker on loopback\n\n", o.Concurrency, o.Duration)
	fmt.Fprintf(o.Out, "%-24s %-18s %10s %10s %10s %7s\n", "scenario", "path", "req/s", "p50", "p99", "errors")
	for _, sc := range scenarios() {
		direct, routed, err := measure(ctx, client, workerURL, sc, o)
		if err != nil {
			return err
		}
		report(o.Out, sc.name, "direct", direct)
		for i, v := range sc.variants {
			report(o.Out, "", v.name, routed[i])
			base, label := direct, "routed/direct"
			if i > 0 {
				base, label = routed[0], "vs "+sc.variants[0].name
			}
			fmt.Fprintf(o.Out, "%-24s %-18s %9.2fx  +%-9s +%-9s\n", "", label, routed[i].RPS()/base.RPS(),
				round(routed[i].P50-base.P50), round(routed[i].P99-base.P99))
		}
	}
	return nil
}

// rounds is how often each run of a scenario is repeated, interleaved
// (direct, variants, direct, variants, ...); the best run of each counts.
// On a small busy machine one run can be unlucky, and whichever variant
// runs second would otherwise profit from a warmer machine.
const rounds = 2

// measure runs sc direct and with each variant, rounds times interleaved.
func measure(ctx context.Context, client *http.Client, workerURL string, sc scenario, o Options) (Result, []Result, error) {
	var direct Result
	routed := make([]Result, len(sc.variants))
	for r := 0; r < rounds; r++ {
		direct = best(direct, runLoad(ctx, client, workerURL+sc.path, sc.bodies, o))
		for i, v := range sc.variants {
			res, err := runRouted(ctx, client, workerURL, sc, v, o)
			if err != nil {
				return direct, routed, err
			}
			routed[i] = best(routed[i], res)
		}
	}
	return direct, routed, nil
}

// best is the run with more completed requests per second.
func best(a, b Result) Result {
	if a.Requests == 0 || b.RPS() > a.RPS() {
		return b
	}
	return a
}

func runRouted(ctx context.Context, client *http.Client, workerURL string, sc scenario, v variant, o Options) (Result, error) {
	cfg := config.Defaults()
	cfg.WorkerURLs, cfg.Port, cfg.PrometheusPort = []string{workerURL}, 0, 0
	cfg.WorkerStartupCheckInterval = 1
	v.apply(&cfg)
	a, err := app.New(cfg, app.Options{Logging: logging.Options{Console: io.Discard}})
	if err != nil {
		return Result{}, err
	}
	if err := a.Start(); err != nil {
		return Result{}, err
	}
	defer a.Shutdown(context.Background())
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if resp, err := http.Get("http://" + a.Addr() + "/readiness"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			return Result{}, fmt.Errorf("router did not become ready")
		}
	}
	return runLoad(ctx, client, "http://"+a.Addr()+sc.path, sc.bodies, o), nil
}

func runLoad(ctx context.Context, client *http.Client, url string, bodies [][]byte, o Options) Result {
	return Load{Client: client, URL: url, Bodies: bodies, Concurrency: o.Concurrency, Duration: o.Duration, Warmup: 20}.Run(ctx)
}

func report(w io.Writer, name, path string, r Result) {
	fmt.Fprintf(w, "%-24s %-18s %10.0f %10s %10s %7d\n", name, path, r.RPS(), round(r.P50), round(r.P99), r.Errors)
}

func round(d time.Duration) time.Duration {
	if d < 0 {
		return -round(-d)
	}
	return d.Round(time.Microsecond)
}
