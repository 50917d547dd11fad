package chaos

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// maxAttackRSS bounds the router's RSS under the connection attack.
const maxAttackRSS = 256 << 20

// TestConnectionAttack opens attackConns() connections that announce
// 256 MiB bodies and send nothing more, and as many that trickle a body
// one byte a second, holds them for a while, and sends good requests one
// after another meanwhile: every good request must succeed and the
// router's RSS stay under maxAttackRSS.
func TestConnectionAttack(t *testing.T) {
	if testing.Short() {
		t.Skip("connection attack: thousands of connections to a real process")
	}
	n := attackConns(t)
	raiseFileLimit(t, uint64(4*n+1024))
	urls := []string{}
	for range 2 {
		port := freePort(t)
		startSim(t, port)
		urls = append(urls, fmt.Sprintf("http://127.0.0.1:%d", port))
	}
	rt := startRouter(t, urls)
	before := rt.rssBytes()

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	rss := rt.rssWatch(ctx)
	var bad sync.WaitGroup
	var open atomic.Int64
	hostile(ctx, &bad, rt.addr, n, 256<<20, 0, &open)
	hostile(ctx, &bad, rt.addr, n, 256<<20, time.Second, &open)
	good, failed := 0, 0
	client := &http.Client{Timeout: time.Minute}
	request := func() {
		good++
		if err := generate(client, rt.url, fmt.Sprintf("good request %d", good)); err != nil {
			failed++
			t.Errorf("good request %d during the attack: %v", good, err)
		}
	}
	deadline := time.Now().Add(2 * time.Minute)
	for open.Load() < int64(2*n) && time.Now().Before(deadline) {
		request()
	}
	if got := open.Load(); got < int64(2*n) {
		t.Fatalf("only %d of %d attack connections opened", got, 2*n)
	}
	held := time.Now()
	for time.Since(held) < 10*time.Second { // all of them open: hold, keep serving
		request()
		time.Sleep(20 * time.Millisecond)
	}
	heap, vm := rt.sample("go_memstats_heap_alloc_bytes"), rt.vmBytes()
	stop()
	bad.Wait()
	peak := <-rss
	t.Logf("%d header-only + %d slow-body connections: router RSS %s before, peak %s; under attack heap %s, virtual %s; %d good requests, %d failed",
		n, n, mib(before), mib(peak), mib(int64(heap)), mib(vm), good, failed)
	if peak > maxAttackRSS {
		t.Errorf("router RSS peaked at %s; bound %s", mib(peak), mib(maxAttackRSS))
	}
}

// attackConns is the number of connections of each kind:
// $CHAOS_ATTACK_CONNS or 1000 (a smaller number to try a build that
// allocates by Content-Length without exhausting the machine).
func attackConns(t *testing.T) int {
	if v := os.Getenv("CHAOS_ATTACK_CONNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("CHAOS_ATTACK_CONNS=%q: want a positive number", v)
		}
		return n
	}
	return 1000
}
