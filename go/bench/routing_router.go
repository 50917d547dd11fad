package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"time"

	"github.com/sgl-project/sglang-router-go/go/app"
	"github.com/sgl-project/sglang-router-go/go/config"
	"github.com/sgl-project/sglang-router-go/go/logging"
)

// runningRouter is a router under test: its base URL and how to stop it.
type runningRouter struct {
	url  string
	stop func()
}

// routerConfig is the configuration every policy runs with: the library
// defaults, loopback on free ports, health checks every second, and the
// workers' load read at the default interval of simulated time (see
// pollIntervalMs).
func routerConfig(urls []string, policyName string, timeScale float64) config.Config {
	cfg := config.Defaults()
	cfg.WorkerURLs, cfg.Policy = urls, policyName
	cfg.Port, cfg.PrometheusPort = 0, 0
	cfg.WorkerStartupCheckInterval = 1
	cfg.LoadPollIntervalMs = pollIntervalMs(cfg.LoadPollIntervalMs, timeScale)
	return cfg
}

// pollIntervalMs is the wall interval at which a router reads its workers'
// load so that it reads it every ms of simulated time: the engines run
// timeScale wall seconds per simulated second, and a router polling at
// the default wall interval would see loads 1/timeScale times staler
// than a deployment with the same settings. Router replicas agree on
// which worker is hot through that load, so a stale one understated how
// well they agree (measured on skewed prefixes with 8 replicas: TTFT p99
// above round_robin's in two of three runs polling every 200 ms of wall
// time, in none of six every 100; max/mean 1.23-1.27 against
// 1.22-1.26). timeScale 0 (no simulated time) keeps ms.
func pollIntervalMs(ms int, timeScale float64) int {
	if timeScale <= 0 || ms <= 0 {
		return ms
	}
	return max(1, int(math.Round(float64(ms)*timeScale)))
}

// startRouter starts a router with policyName in front of urls and waits
// until every worker is healthy, so no run starts on part of the pool.
func startRouter(ctx context.Context, urls []string, policyName string, timeScale float64) (*runningRouter, error) {
	rr, err := startApp(urls, policyName, timeScale)
	if err != nil {
		return nil, err
	}
	if err := waitAllHealthy(ctx, rr.url, len(urls)); err != nil {
		rr.stop()
		return nil, err
	}
	return rr, nil
}

// startApp runs the product itself: app.New with the policy's config. The
// policy goes through PolicyOverride so the reference policy (the original
// router's rule, not offered to users) runs in the same router.
func startApp(urls []string, policyName string, timeScale float64) (*runningRouter, error) {
	a, err := app.New(routerConfig(urls, config.PolicyRoundRobin, timeScale), app.Options{
		Logging: logging.Options{Console: io.Discard}, PolicyOverride: policyName})
	if err != nil {
		return nil, err
	}
	if err := a.Start(); err != nil {
		return nil, err
	}
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx)
	}
	return &runningRouter{url: "http://" + a.Addr(), stop: stop}, nil
}

// waitAllHealthy polls /readiness until it reports want healthy workers.
func waitAllHealthy(ctx context.Context, base string, want int) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		if healthyWorkers(ctx, base) >= want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("router %s: fewer than %d healthy workers after 15s", base, want)
		}
		if !sleepUntil(ctx, time.Now().Add(20*time.Millisecond)) {
			return ctx.Err()
		}
	}
}

func healthyWorkers(ctx context.Context, base string) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readiness", nil)
	if err != nil {
		return 0
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var body struct {
		Healthy int `json:"healthy_workers"`
	}
	if json.NewDecoder(resp.Body).Decode(&body) != nil {
		return 0
	}
	return body.Healthy
}
