package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sgl-project/sglang-router-go/go/config"
	"github.com/sgl-project/sglang-router-go/go/sim"
	"github.com/sgl-project/sglang-router-go/go/worker"
)

// waitLong is waitUntil with a deadline generous enough for a busy
// machine: adding dp_aware workers takes a health check and a
// /get_server_info round trip each.
func waitLong(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// listed returns the router's /list_workers (regular mode).
func listed(t *testing.T, a *App) []string {
	t.Helper()
	_, body := get(t, "http://"+a.Addr()+"/list_workers")
	var m map[string][]string
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("/list_workers %s: %v", body, err)
	}
	return m["urls"]
}

// sharedPrefixHitRate runs groups of requests that share a long prefix
// (each group's requests one after another, as a chat session's turns
// come) through a cache_aware router in front of cluster, and returns the
// cluster's prefix cache hit rate.
func sharedPrefixHitRate(t *testing.T, cluster *sim.Cluster, dpAware bool) float64 {
	t.Helper()
	cfg := testConfig(cluster.URLs()...)
	cfg.Policy = config.PolicyCacheAware
	cfg.DPAware = dpAware
	a, _ := startApp(t, cfg)
	units := len(cluster.URLs())
	if dpAware {
		units *= 4
	}
	waitLong(t, "every unit listed and healthy", func() bool {
		_, b := get(t, "http://"+a.Addr()+"/readiness")
		return len(listed(t, a)) == units && strings.Contains(b, fmt.Sprintf(`"healthy_workers":%d`, units))
	})
	for g := range 8 {
		prefix := strings.Repeat(fmt.Sprintf("Session %d context: the user asked about topic %d at length. ", g, g), 30)
		for turn := range 4 {
			body, _ := json.Marshal(map[string]any{"text": prefix + fmt.Sprintf("Turn %d?", turn), "sampling_params": map[string]int{"max_new_tokens": 2}})
			if s, b := post(t, "http://"+a.Addr()+"/generate", string(body)); s != 200 {
				t.Fatalf("group %d turn %d: %d %s", g, turn, s, b)
			}
		}
	}
	var cached, prompt int64
	for _, st := range cluster.Stats() {
		cached += st.CachedTokens
		prompt += st.PromptTokens
	}
	return float64(cached) / float64(prompt)
}

// With dp_aware each shared prefix sticks to one data-parallel rank, so
// its later requests hit that rank's cache; without it the router picks
// only the server and SGLang's own round robin spreads a prefix over the
// ranks, each with a cold cache.
func TestDPAwareKeepsPrefixesOnOneRank(t *testing.T) {
	aware := sharedPrefixHitRate(t, startSim(t, sim.Config{Workers: 2, DPSize: 4}), true)
	blind := sharedPrefixHitRate(t, startSim(t, sim.Config{Workers: 2, DPSize: 4}), false)
	t.Logf("prefix cache hit rate: dp_aware %.2f, without %.2f", aware, blind)
	if aware < 0.5 || blind > 0.3 || aware-blind < 0.3 {
		t.Fatalf("hit rate with dp_aware %.2f, without %.2f; want >= 0.5 and <= 0.3", aware, blind)
	}
}

func TestDPAwareListsRanksAndRemovesThemWithTheServer(t *testing.T) {
	cluster := startSim(t, sim.Config{Workers: 2, DPSize: 3})
	cfg := testConfig(cluster.URLs()...)
	cfg.DPAware = true
	a, _ := startApp(t, cfg)
	waitLong(t, "six ranks", func() bool { return len(listed(t, a)) == 6 })
	got := strings.Join(listed(t, a), " ")
	for _, u := range cluster.URLs() {
		for r := range 3 {
			if !strings.Contains(got, fmt.Sprintf("%s@%d", u, r)) {
				t.Fatalf("/list_workers %s lacks %s@%d", got, u, r)
			}
		}
	}
	series := scrape(t, a)
	for r := range 3 {
		key := fmt.Sprintf(`sgl_router_worker_health{worker="%s@%d"}`, cluster.URLs()[0], r)
		if series[key] != 1 {
			t.Fatalf("metrics lack %s = 1", key)
		}
	}
	if err := a.RemoveWorker(cluster.URLs()[0]); err != nil {
		t.Fatal(err)
	}
	if left := listed(t, a); len(left) != 3 || !strings.HasPrefix(left[0], cluster.URLs()[1]+"@") {
		t.Fatalf("after removing %s: %v", cluster.URLs()[0], left)
	}
	err := a.AddWorker(context.Background(), worker.Spec{URL: cluster.URLs()[1]}, worker.WhenHealthy)
	if !errors.Is(err, worker.ErrExists) {
		t.Fatalf("adding a server whose ranks are present: %v, want ErrExists", err)
	}
}

func TestDPAwareRefusesAServerWithoutDPSize(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/get_server_info" {
			_, _ = w.Write([]byte(`{"model_path":"m"}`))
		}
	}))
	t.Cleanup(srv.Close)
	cfg := testConfig()
	cfg.DPAware = true
	a, _ := startApp(t, cfg)
	spec, err := worker.ParseSpec(srv.URL, worker.Regular, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = a.AddWorker(context.Background(), spec, worker.WhenHealthy)
	if !errors.Is(err, worker.ErrNotReady) || !strings.Contains(err.Error(), "dp_size") {
		t.Fatalf("err %v, want ErrNotReady naming dp_size", err)
	}
	if n := len(listed(t, a)); n != 0 {
		t.Fatalf("%d workers listed after a refused add", n)
	}
}

func TestDPAwarePDServesThroughRanks(t *testing.T) {
	prefill := startSim(t, sim.Config{Workers: 1, Role: sim.RolePrefill, DPSize: 2})
	decode := startSim(t, sim.Config{Workers: 1, Role: sim.RoleDecode, DPSize: 2})
	cfg := pdConfig(prefill, decode)
	cfg.DPAware = true
	a, _ := startApp(t, cfg)
	waitLong(t, "two prefill and two decode ranks", func() bool {
		_, b := get(t, "http://"+a.Addr()+"/readiness")
		return strings.Contains(b, `"healthy_workers":4`)
	})
	prompt := strings.Repeat("a long shared document about routers ", 40)
	for i := range 6 {
		body, _ := json.Marshal(map[string]any{"text": prompt + fmt.Sprint(i), "sampling_params": map[string]int{"max_new_tokens": 2}})
		if s, b := post(t, "http://"+a.Addr()+"/generate", string(body)); s != 200 {
			t.Fatalf("request %d: %d %s", i, s, b)
		}
	}
	// Round robin over the two prefill ranks (0, 1, 0, ...): each rank
	// computes the shared prompt once, then hits its own cache, so four of
	// the six requests hit.
	st := prefill.Stats()[0]
	perPrompt := st.PromptTokens / 6
	if st.Requests != 6 || st.CachedTokens < 4*(perPrompt-16) {
		t.Fatalf("prefill stats %+v; want 6 requests, 4 of them hitting the shared prompt", st)
	}
}
