package sim

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestClusterServesAndShutsDown(t *testing.T) {
	base := runtime.NumGoroutine()
	c, err := StartCluster(context.Background(), Config{Workers: 3, BlockSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	urls := c.URLs()
	if len(urls) != 3 || urls[0] == urls[1] {
		t.Fatalf("urls %v", urls)
	}
	body := fmt.Sprintf(`{"text": %q, "sampling_params": {"max_new_tokens": 2}}`, words(0, 12))
	for i, u := range urls {
		for range i + 1 {
			if code, b := post(t, u+"/generate", body); code != 200 {
				t.Fatalf("%s: %d %s", u, code, b)
			}
		}
	}
	for i, st := range c.Stats() {
		if st.URL != urls[i] || st.Index != i || st.Requests != int64(i+1) || st.CachedTokens != int64(8*i) {
			t.Fatalf("server %d stats %+v", i, st)
		}
	}
	http.DefaultClient.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	default:
		t.Fatal("Done not closed after Shutdown")
	}
	if c.Err() != nil {
		t.Fatalf("Err after a clean stop: %v", c.Err())
	}
	if err := c.Shutdown(ctx); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
	waitGoroutines(t, base)
}

// waitGoroutines fails unless the goroutine count returns to base.
func waitGoroutines(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines leaked: %d > %d\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestClusterShutdownAbortsWorkInFlight(t *testing.T) {
	base := runtime.NumGoroutine()
	// 1 s per token in real time: these requests would run for minutes.
	c, err := StartCluster(context.Background(), Config{Workers: 2, TimeScale: 1, DecodeTokensPerSec: 1, FaultHang: true, FaultWorkers: []int{1}})
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{}}
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.Post(c.URLs()[i%2]+"/generate", "application/json",
				strings.NewReader(`{"text": "x", "stream": true, "sampling_params": {"max_new_tokens": 100}}`))
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	waitFor(t, func() bool { return c.Stats()[0].Running == 3 && c.Stats()[1].HTTPRequests == 3 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := c.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("shutdown took %v", d)
	}
	client.CloseIdleConnections()
	waitGoroutines(t, base)
}

func TestClusterStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	c, err := StartCluster(ctx, Config{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("cluster still running after its context ended")
	}
}

func TestClusterFixedPortsAndConflicts(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	c, err := StartCluster(context.Background(), Config{BasePort: port})
	if err != nil {
		t.Skipf("port %d taken meanwhile: %v", port, err)
	}
	defer c.Shutdown(context.Background())
	if want := fmt.Sprintf("http://127.0.0.1:%d", port); c.URLs()[0] != want {
		t.Fatalf("url %s, want %s", c.URLs()[0], want)
	}
	_, err = StartCluster(context.Background(), Config{BasePort: port})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprint(port)) {
		t.Fatalf("second cluster on the same port: %v", err)
	}
}

func TestClusterRejectsInvalidConfig(t *testing.T) {
	if _, err := StartCluster(context.Background(), Config{Role: "mixed"}); err == nil || !strings.Contains(err.Error(), "role") {
		t.Fatalf("err %v", err)
	}
}

// TestClusterPDEndToEnd plays the router: the same body, with one room,
// goes concurrently to a prefill server and a decode server.
func TestClusterPDEndToEnd(t *testing.T) {
	ctx := context.Background()
	pre, err := StartCluster(ctx, Config{Role: RolePrefill, Workers: 2, TimeScale: 0.001})
	if err != nil {
		t.Fatal(err)
	}
	defer pre.Shutdown(ctx)
	dec, err := StartCluster(ctx, Config{Role: RoleDecode, Workers: 2, TimeScale: 0.001})
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Shutdown(ctx)
	ports := pre.BootstrapPorts()
	if ports[0] == 0 || ports[0] == ports[1] || dec.BootstrapPorts()[0] != 0 {
		t.Fatalf("bootstrap ports %v / %v", ports, dec.BootstrapPorts())
	}
	for i := range 4 {
		p := i % 2
		body := fmt.Sprintf(`{"text": "turn %d of a test", "sampling_params": {"max_new_tokens": 5}, "stream": true,
			"bootstrap_host": "127.0.0.1", "bootstrap_port": %d, "bootstrap_room": %d}`, i, ports[p], 1000+i)
		var wg sync.WaitGroup
		var pc, dc int
		var db []byte
		wg.Add(2)
		go func() { defer wg.Done(); pc, _ = post(t, pre.URLs()[p]+"/generate", body) }()
		go func() { defer wg.Done(); dc, db = post(t, dec.URLs()[1-p]+"/generate", body) }()
		wg.Wait()
		if pc != 200 || dc != 200 {
			t.Fatalf("round %d: prefill %d, decode %d %s", i, pc, dc, db)
		}
		if events := sseEvents(t, db); len(events) != 6 {
			t.Fatalf("decode stream %q", events)
		}
	}
	got := dec.Stats()
	if got[0].Rooms+got[1].Rooms != 4 {
		t.Fatalf("decode stats %+v", got)
	}
}
