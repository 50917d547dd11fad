package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sgl-project/sglang-router-go/go/config"
	"github.com/sgl-project/sglang-router-go/go/sim"
)

// End-to-end tests: the router in front of simulated SGLang servers, all on
// real loopback sockets.

func startSim(t *testing.T, cfg sim.Config) *sim.Cluster {
	t.Helper()
	c, err := sim.StartCluster(context.Background(), cfg.WithDefaults())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Shutdown(context.Background()) })
	return c
}

func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func ready(t *testing.T, a *App) {
	t.Helper()
	waitUntil(t, "router ready", func() bool { s, _ := get(t, "http://"+a.Addr()+"/readiness"); return s == 200 })
}

func TestCacheAwareSendsSharedPrefixesToOneWorker(t *testing.T) {
	cluster := startSim(t, sim.Config{Workers: 4})
	cfg := testConfig(cluster.URLs()...)
	cfg.Policy = config.PolicyCacheAware
	a, _ := startApp(t, cfg)
	ready(t, a)
	system := strings.Repeat("You are a helpful assistant who answers briefly. ", 40)
	for i := range 12 {
		body, _ := json.Marshal(map[string]any{"text": system + "Question " + string(rune('A'+i)), "sampling_params": map[string]int{"max_new_tokens": 4}})
		if s, b := post(t, "http://"+a.Addr()+"/generate", string(body)); s != 200 {
			t.Fatalf("request %d: %d %s", i, s, b)
		}
	}
	busy := 0
	var cached int64
	for _, st := range cluster.Stats() {
		if st.Requests > 0 {
			busy++
		}
		cached += st.CachedTokens
	}
	if busy != 1 || cached == 0 {
		t.Fatalf("shared-prefix requests spread over %d workers with %d cached tokens; want one worker and cache hits", busy, cached)
	}
}

func TestWorkerKilledMidRunIsRoutedAround(t *testing.T) {
	healthy := startSim(t, sim.Config{Workers: 1})
	dying := startSim(t, sim.Config{Workers: 1, FaultCrashAfterN: 2})
	cfg := testConfig(dying.URLs()[0], healthy.URLs()[0])
	a, _ := startApp(t, cfg)
	waitUntil(t, "both healthy", func() bool {
		_, b := get(t, "http://"+a.Addr()+"/readiness")
		return strings.Contains(b, `"healthy_workers":2`)
	})
	for i := range 20 {
		if s, b := post(t, "http://"+a.Addr()+"/generate", `{"text":"hello","sampling_params":{"max_new_tokens":2}}`); s != 200 {
			t.Fatalf("request %d after the crash: %d %s", i, s, b)
		}
	}
	if got := dying.Stats()[0].Requests; got != 2 {
		t.Errorf("the dying worker served %d, want 2 before it crashed", got)
	}
}

func pdConfig(prefill, decode *sim.Cluster) config.Config {
	cfg := testConfig()
	cfg.PDDisaggregation = true
	cfg.Policy = config.PolicyRoundRobin
	for i, u := range prefill.URLs() {
		port := prefill.BootstrapPorts()[i]
		cfg.PrefillURLs = append(cfg.PrefillURLs, config.PrefillURL{URL: u, BootstrapPort: &port})
	}
	cfg.DecodeURLs = decode.URLs()
	return cfg
}

func TestPDEndToEndWithSimulatedServers(t *testing.T) {
	prefill := startSim(t, sim.Config{Workers: 2, Role: sim.RolePrefill})
	decode := startSim(t, sim.Config{Workers: 2, Role: sim.RoleDecode})
	a, _ := startApp(t, pdConfig(prefill, decode))
	ready(t, a)
	base := "http://" + a.Addr()
	cases := []struct{ name, path, body, want string }{
		{"generate", "/generate", `{"text":"the quick brown fox","sampling_params":{"max_new_tokens":5}}`, `"completion_tokens":5`},
		{"generate batch", "/generate", `{"text":["a b","c d","e f"],"sampling_params":{"max_new_tokens":2}}`, `"completion_tokens":2`},
		{"generate stream", "/generate", `{"text":"hi there","stream":true,"sampling_params":{"max_new_tokens":4}}`, `data: [DONE]`},
		{"chat", "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":3}`, `"chat.completion"`},
		{"chat n=2", "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":3,"n":2}`, `"index":1`},
		{"chat stream", "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":3,"stream":true}`, `data: [DONE]`},
		{"completions", "/v1/completions", `{"model":"m","prompt":"once upon","max_tokens":3}`, `"text_completion"`},
		{"logprobs", "/generate", `{"text":"a b c","return_logprob":true,"sampling_params":{"max_new_tokens":2}}`, `"input_token_logprobs":[[`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, b := post(t, base+tc.path, tc.body)
			if s != 200 || !strings.Contains(b, tc.want) {
				t.Fatalf("got %d %s, want 200 with %s", s, b, tc.want)
			}
		})
	}
	var rooms int64
	for _, st := range prefill.Stats() {
		rooms += st.Rooms
		if st.Requests == 0 {
			t.Errorf("prefill %s never used", st.URL)
		}
	}
	if rooms < int64(len(cases)) {
		t.Errorf("prefill servers registered %d rooms for %d requests", rooms, len(cases))
	}
}

func TestPDDeadPrefillFailsTheRequestAndFreesDecode(t *testing.T) {
	prefill := startSim(t, sim.Config{Workers: 1, Role: sim.RolePrefill, FaultFailFirstN: 1000})
	decode := startSim(t, sim.Config{Workers: 1, Role: sim.RoleDecode, BootstrapTimeoutMs: 60000})
	a, _ := startApp(t, pdConfig(prefill, decode))
	ready(t, a)
	s, b := post(t, "http://"+a.Addr()+"/generate", `{"text":"a"}`)
	if s < 500 {
		t.Fatalf("got %d %s, want the prefill's error", s, b)
	}
	waitUntil(t, "decode freed", func() bool {
		st := decode.Stats()[0]
		return st.Running == 0 && st.Queued == 0
	})
	for _, p := range a.pools {
		for _, w := range p.Registry.Snapshot() {
			if w.Load() != 0 {
				t.Errorf("%s still counts %d in flight", w.URL(), w.Load())
			}
		}
	}
}

// TestCacheAwareReadsTheWorkersOwnLoad: under cache_aware the router polls
// every worker's /get_load (the load router replicas share).
func TestCacheAwareReadsTheWorkersOwnLoad(t *testing.T) {
	cluster := startSim(t, sim.Config{Workers: 2})
	cfg := testConfig(cluster.URLs()...)
	cfg.Policy, cfg.LoadPollIntervalMs = config.PolicyCacheAware, 20
	a, _ := startApp(t, cfg)
	ready(t, a)
	waitUntil(t, "every worker's load polled", func() bool {
		for _, w := range a.pools[0].Registry.Snapshot() {
			if w.PolledLoad() < 0 {
				return false
			}
		}
		return true
	})
}
