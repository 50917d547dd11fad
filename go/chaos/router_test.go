package chaos

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"
)

// router is a running sglang-router process.
type router struct {
	*proc
	url, metrics string
	addr         string
}

// startRouter runs the router in front of workers (round robin, metrics
// on) with extra flags, and waits until every worker is in rotation.
func startRouter(t *testing.T, workers []string, extra ...string) *router {
	t.Helper()
	port, mport := freePort(t), freePort(t)
	args := []string{"--host", "127.0.0.1", "--port", strconv.Itoa(port), "--policy", "round_robin",
		"--prometheus-host", "127.0.0.1", "--prometheus-port", strconv.Itoa(mport), "--log-level", "warn", "--worker-urls"}
	args = append(append(args, workers...), extra...)
	r := &router{proc: start(t, "router", args...), addr: fmt.Sprintf("127.0.0.1:%d", port)}
	r.url, r.metrics = "http://"+r.addr, fmt.Sprintf("http://127.0.0.1:%d/metrics", mport)
	eventually(t, 60*time.Second, "every worker is healthy", func() bool {
		n, err := metric(context.Background(), r.metrics, "sgl_router_worker_health")
		return err == nil && int(n) == len(workers)
	})
	return r
}

// sample reads one of the router's metrics, 0 when it cannot.
func (r *router) sample(name string, labels ...string) float64 {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	v, _ := metric(ctx, r.metrics, name, labels...)
	return v
}

// rssWatch samples the router's RSS every 100 ms until ctx ends and
// reports the highest it saw.
func (r *router) rssWatch(ctx context.Context) <-chan int64 {
	out := make(chan int64, 1)
	go func() {
		peak := int64(0)
		for sleepCtx(ctx, 100*time.Millisecond) {
			peak = max(peak, r.rssBytes())
		}
		out <- max(peak, r.rssBytes())
	}()
	return out
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
