package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"

	"github.com/sgl-project/sglang-router-go/go/app"
	"github.com/sgl-project/sglang-router-go/go/config"
	"github.com/sgl-project/sglang-router-go/go/logging"
	"github.com/sgl-project/sglang-router-go/go/sim"
)

// RunPD measures PD routing overhead: a client that does the PD dispatch
// itself (bootstrap fields, the same body sent to the prefill and the decode
// simulator at once, wait for both) against the same request through the
// router in PD mode, in one run. The simulators answer at once.
func RunPD(ctx context.Context, o Options) error {
	direct, routed, err := measurePD(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "\nPD overhead, concurrency %d, %s per run, simulated prefill and decode answering at once\n\n", o.Concurrency, o.Duration)
	fmt.Fprintf(o.Out, "%-24s %-18s %10s %10s %10s %7s\n", "scenario", "path", "req/s", "p50", "p99", "errors")
	report(o.Out, "PD /generate", "client dispatches", direct)
	report(o.Out, "", "routed PD", routed)
	fmt.Fprintf(o.Out, "%-24s %-18s %9.2fx  +%-9s +%-9s\n", "", "routed/direct", routed.RPS()/direct.RPS(),
		round(routed.P50-direct.P50), round(routed.P99-direct.P99))
	return nil
}

// measurePD runs the direct and the routed load.
func measurePD(ctx context.Context, o Options) (direct, routed Result, err error) {
	start := func(role string) (*sim.Cluster, error) {
		return sim.StartCluster(ctx, sim.Config{Workers: 1, Role: role}.WithDefaults())
	}
	prefill, err := start(sim.RolePrefill)
	if err != nil {
		return direct, routed, err
	}
	defer prefill.Shutdown(context.Background())
	decode, err := start(sim.RoleDecode)
	if err != nil {
		return direct, routed, err
	}
	defer decode.Shutdown(context.Background())
	client := newClient(max(o.Concurrency, 2) * 2)
	defer client.CloseIdleConnections()

	pre, dec, port := prefill.URLs()[0], decode.URLs()[0], prefill.BootstrapPorts()[0]
	direct = Load{Client: client, Concurrency: o.Concurrency, Duration: o.Duration, Warmup: 20, MinRequests: o.MinRequests,
		Send: func(ctx context.Context, _ int) error { return directPD(ctx, client, pre, dec, port) }}.Run(ctx)

	cfg := config.Defaults()
	cfg.PDDisaggregation, cfg.Policy, cfg.Port, cfg.PrometheusPort = true, config.PolicyRoundRobin, 0, 0
	cfg.PrefillURLs = []config.PrefillURL{{URL: pre, BootstrapPort: &port}}
	cfg.DecodeURLs = []string{dec}
	cfg.WorkerStartupCheckInterval = 1
	a, err := app.New(cfg, app.Options{Logging: logging.Options{Console: io.Discard}})
	if err != nil {
		return direct, routed, err
	}
	if err := a.Start(); err != nil {
		return direct, routed, err
	}
	defer a.Shutdown(context.Background())
	if err := waitAllHealthy(ctx, "http://"+a.Addr(), 2); err != nil {
		return direct, routed, err
	}
	routed = Load{Client: client, URL: "http://" + a.Addr() + "/generate", Bodies: [][]byte{[]byte(pdBody)},
		Concurrency: o.Concurrency, Duration: o.Duration, Warmup: 20, MinRequests: o.MinRequests}.Run(ctx)
	return direct, routed, nil
}

const pdBody = `{"text":"The capital of France is","sampling_params":{"max_new_tokens":8}}`

// directPD is what a client without a router does for one PD request.
func directPD(ctx context.Context, client *http.Client, pre, dec string, port int) error {
	host, _ := url.Parse(pre)
	body, _ := json.Marshal(map[string]any{
		"text": "The capital of France is", "sampling_params": map[string]int{"max_new_tokens": 8},
		"bootstrap_host": host.Hostname(), "bootstrap_port": port, "bootstrap_room": rand.Uint64() >> 1,
	})
	errs := make(chan error, 2)
	for _, u := range []string{pre, dec} {
		go func() { errs <- post(ctx, client, u+"/generate", string(body)) }()
	}
	return errors.Join(<-errs, <-errs)
}

func post(ctx context.Context, client *http.Client, url, body string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: status %d", url, resp.StatusCode)
	}
	return nil
}
