package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Bounds the chaos test asserts; the measured figures are logged.
const (
	maxChaosRSS    = 256 << 20        // router RSS under load and hostile clients
	hangStopWithin = 10 * time.Second // hung worker: no new request after this
)

// TestChaos runs four simulated workers and the router as processes under
// steady load, with header-only and slow-body clients throughout, and in
// turn: SIGKILLs one worker and restarts it on the same port, makes one
// fail half its requests with 500, and hangs one (its /health still 200).
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos test: about a minute of real processes")
	}
	ports := make([]int, 4)
	sims := make([]*proc, 4)
	urls := make([]string, 4)
	for i := range ports {
		ports[i] = freePort(t)
		sims[i] = startSim(t, ports[i])
		urls[i] = fmt.Sprintf("http://127.0.0.1:%d", ports[i])
	}
	rt := startRouter(t, urls, "--health-check-interval-secs", "1", "--health-check-timeout-secs", "2",
		"--stall-timeout-secs", "5", "--request-timeout-secs", "15", "--body-read-timeout-secs", "5")

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	rss := rt.rssWatch(ctx)
	var bad sync.WaitGroup
	var open atomic.Int64
	hostile(ctx, &bad, rt.addr, 20, 256<<20, 0, &open)                  // header only, announcing 256 MiB
	hostile(ctx, &bad, rt.addr, 20, 1<<20, 500*time.Millisecond, &open) // slow body
	ld := startLoad(ctx, rt.url, 25*time.Millisecond, 400)
	time.Sleep(2 * time.Second) // steady state before the first fault

	killAt := time.Now()
	restarted := killAndRestart(t, sims, ports, 0)
	failAt := time.Now()
	failHalf(t, urls[1], 8*time.Second)
	// A request dispatched after the hang may end in a timeout; leave the
	// requests before it time to finish where they were sent.
	time.Sleep(2 * time.Second)
	hangAt := time.Now()
	lastToHung, recovered := hangAndRecover(t, rt, urls[2])
	stop()
	outcomes := ld.wait()
	bad.Wait()
	peak := <-rss

	nKill, failedKill := between(outcomes, killAt, failAt)
	nFail, failedFail := between(outcomes, failAt, hangAt.Add(-time.Second))
	nHang, failedHang := between(outcomes, hangAt, time.Now())
	t.Logf("kill+restart: %d requests, %d failed; restarted worker got traffic %s after its restart", nKill, len(failedKill), restarted.Round(time.Millisecond))
	t.Logf("fail 50%%: %d requests, %d failed", nFail, len(failedFail))
	t.Logf("hang: %d requests, %d failed (sent to the hung worker before it was detected); last new request to it %s after the hang; back in rotation %s after it answered again",
		nHang, len(failedHang), lastToHung.Round(time.Millisecond), recovered.Round(time.Millisecond))
	t.Logf("router RSS peak %s", mib(peak))
	for _, f := range append(failedKill, failedFail...) {
		t.Errorf("request started %s after the kill failed: %v", f.start.Sub(killAt).Round(time.Millisecond), f.err)
	}
	if lastToHung > hangStopWithin {
		t.Errorf("the hung worker got new requests until %s after it hung; want none after %s", lastToHung, hangStopWithin)
	}
	if peak > maxChaosRSS {
		t.Errorf("router RSS peaked at %s; bound %s", mib(peak), mib(maxChaosRSS))
	}
	eventually(t, time.Minute, "no request is in flight", func() bool {
		return rt.sample("sgl_router_running_requests") == 0 && rt.sample("sgl_router_worker_load") == 0
	})
}

// killAndRestart SIGKILLs sims[i], restarts it on the same port after 3 s
// (health checks see it down) and returns how long after the restart it
// answered its first request.
func killAndRestart(t *testing.T, sims []*proc, ports []int, i int) time.Duration {
	t.Helper()
	sims[i].kill()
	time.Sleep(3 * time.Second)
	sims[i] = startSim(t, ports[i])
	back := time.Now()
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[i])
	eventually(t, 30*time.Second, "the restarted worker answers requests", func() bool {
		n, err := metric(context.Background(), url, "sglang:num_requests_total")
		return err == nil && n > 0
	})
	took := time.Since(back)
	time.Sleep(2 * time.Second)
	return took
}

// failHalf makes the worker at url answer 500 to half its requests for d.
func failHalf(t *testing.T, url string, d time.Duration) {
	t.Helper()
	setFaults(t, url, `{"fail_rate": 0.5}`)
	time.Sleep(d)
	setFaults(t, url, `{}`)
}

// hangAndRecover hangs the worker at url and watches the router's picks of
// it for 20 s; then lets it answer again. It returns how long after the
// hang it was last picked, and how long after it answered again it was
// picked anew.
func hangAndRecover(t *testing.T, rt *router, url string) (lastPick, back time.Duration) {
	t.Helper()
	label := `worker="` + url + `"`
	hungAt := time.Now()
	setFaults(t, url, `{"hang": true}`)
	picks := rt.sample("sgl_router_policy_decisions_total", label)
	lastAt, sawStalled := hungAt, false
	for time.Since(hungAt) < 20*time.Second {
		time.Sleep(200 * time.Millisecond)
		if n := rt.sample("sgl_router_policy_decisions_total", label); n != picks {
			picks, lastAt = n, time.Now()
		}
		sawStalled = sawStalled || stalled(t, rt, url)
	}
	if !sawStalled {
		t.Errorf("/list_workers never listed %s as stalled", url)
	}
	if rt.sample("sgl_router_worker_circuit_state", label) != 3 {
		t.Errorf("circuit state of the hung worker is not 3 (stalled)")
	}
	setFaults(t, url, `{}`)
	answered := time.Now()
	eventually(t, 30*time.Second, "the worker is picked again after it answers", func() bool {
		return rt.sample("sgl_router_policy_decisions_total", label) > picks
	})
	return lastAt.Sub(hungAt), time.Since(answered)
}

func stalled(t *testing.T, rt *router, url string) bool {
	resp, err := http.Get(rt.url + "/list_workers")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var list map[string][]string
	if json.NewDecoder(resp.Body).Decode(&list) != nil {
		return false
	}
	for _, u := range list["stalled"] {
		if u == url {
			return true
		}
	}
	return false
}

func setFaults(t *testing.T, url, body string) {
	t.Helper()
	resp, err := http.Post(url+"/sim/faults", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("setting faults of %s: %v", url, err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("setting faults of %s: status %d", url, resp.StatusCode)
	}
}
