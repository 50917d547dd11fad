package app

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/sgl-project/sglang-router-go/go/config"
	"github.com/sgl-project/sglang-router-go/go/sim"
	"github.com/sgl-project/sglang-router-go/go/worker"
	"github.com/sgl-project/sglang-router-go/go/worker/workertest"
)

// One router in front of simulated servers of two models: each server's
// model is learned from its /v1/models, requests go to the servers of
// their model, each model with its own prefix tree.
func TestOneRouterServesSeveralModels(t *testing.T) {
	cluster := startSim(t, sim.Config{Workers: 4, Models: []string{"alpha", "beta"}, TimeScale: 0})
	cfg := testConfig(cluster.URLs()...)
	cfg.Policy = config.PolicyCacheAware
	a, _ := startApp(t, cfg)
	base := "http://" + a.Addr()
	waitUntil(t, "both models learned", func() bool {
		_, b := get(t, base+"/v1/models")
		return strings.Contains(b, `"id":"alpha"`) && strings.Contains(b, `"id":"beta"`)
	})
	for i := range 8 {
		model := []string{"alpha", "beta"}[i%2]
		body, _ := json.Marshal(map[string]any{"model": model, "max_tokens": 2,
			"messages": []map[string]string{{"role": "user", "content": "question " + string(rune('a'+i))}}})
		if s, b := post(t, base+"/v1/chat/completions", string(body)); s != 200 {
			t.Fatalf("%s: %d %s", model, s, b)
		}
	}
	for i, st := range cluster.Stats() { // server i serves models[i%2]
		if st.Requests == 0 {
			continue
		}
		if want := []string{"alpha", "beta"}[i%2]; cluster.Servers()[i].Model() != want {
			t.Errorf("server %d served requests but serves %s", i, cluster.Servers()[i].Model())
		}
	}
	var served [2]int64
	for i, st := range cluster.Stats() {
		served[i%2] += st.Requests
	}
	if served != [2]int64{4, 4} {
		t.Errorf("requests by model (alpha, beta) = %v, want 4 each", served)
	}
	if s, b := post(t, base+"/v1/chat/completions", `{"model":"gamma","messages":[{"role":"user","content":"x"}]}`); s != 404 || !strings.Contains(b, "model_not_found") {
		t.Errorf("unknown model: %d %s", s, b)
	}
	if policies := len(a.pools[0].Policies()); policies != 3 {
		t.Errorf("%d policy instances, want the pool's and one per model (3)", policies)
	}
}

func TestWorkerThatNamesNoModelIsNotRouted(t *testing.T) {
	w := newReadyOnly(t) // answers only /ready: no model to learn
	cfg := testConfig(w.URL)
	cfg.HealthCheckEndpoint = "/ready"
	a, logs := startApp(t, cfg)
	waitUntil(t, "the worker healthy", func() bool { s, _ := get(t, "http://"+a.Addr()+"/readiness"); return s == 200 })
	waitUntil(t, "the failure logged", func() bool { return strings.Contains(logs.String(), "cannot learn the worker's model") })
	if s, b := post(t, "http://"+a.Addr()+"/generate", `{"text":"x"}`); s != 503 {
		t.Errorf("worker without a model was routed to: %d %s", s, b)
	}
}

// A worker discovery vouches for learns its model at once, not at the
// next health check (an hour away here).
func TestVouchedWorkerLearnsItsModelAtOnce(t *testing.T) {
	w := workertest.New(t, "pod")
	w.SetModel("from-pod")
	cfg := testConfig()
	cfg.WorkerStartupCheckInterval = 3600
	a, _ := startApp(t, cfg)
	spec, err := worker.ParseSpec(w.URL, worker.Regular, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.AddWorker(context.Background(), spec, worker.Vouched); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the model learned", func() bool { return a.pools[0].Registry.Get(w.URL).Model() == "from-pod" })
	if s, b := post(t, "http://"+a.Addr()+"/generate", `{"text":"x","model":"from-pod"}`); s != 200 {
		t.Errorf("generate: %d %s", s, b)
	}
}

func TestGivenModelMustBeAName(t *testing.T) {
	a, _ := startApp(t, testConfig())
	spec, _ := worker.ParseSpec("http://127.0.0.1:9", worker.Regular, nil)
	spec.Model = "bad\nname"
	if err := a.AddWorker(context.Background(), spec, worker.Vouched); !errors.Is(err, worker.ErrInvalidSpec) {
		t.Errorf("model with a newline: %v, want ErrInvalidSpec", err)
	}
}

// /abort_request with the rid of a request in flight reaches the simulated
// server running it, and only that one.
func TestAbortReachesTheServerRunningTheRequest(t *testing.T) {
	cluster := startSim(t, sim.Config{Workers: 2, DecodeTokensPerSec: 20, TimeScale: 1})
	cfg := testConfig(cluster.URLs()...)
	cfg.Policy = config.PolicyRoundRobin
	a, _ := startApp(t, cfg)
	ready(t, a)
	base := "http://" + a.Addr()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/generate",
		strings.NewReader(`{"text":"long","rid":"abort-me","stream":true,"sampling_params":{"max_new_tokens":10000}}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("stream: %d", resp.StatusCode)
	}
	if _, err := resp.Body.Read(make([]byte, 1)); err != nil { // the stream runs
		t.Fatal(err)
	}
	if s, b := post(t, base+"/abort_request", `{"rid":"abort-me"}`); s != 200 {
		t.Fatalf("abort: %d %s", s, b)
	}
	var got []int
	for _, s := range cluster.Servers() {
		got = append(got, len(s.Aborted()))
	}
	running := 0
	for i, st := range cluster.Stats() {
		if st.Running > 0 {
			running = i
		}
	}
	if got[running] != 1 || got[1-running] != 0 || cluster.Servers()[running].Aborted()[0] != "abort-me" {
		t.Errorf("aborts by server %v; want one on server %d, the one running the request", got, running)
	}
}

// A worker that went down and came back serving another model is routed
// as a worker of its new model.
func TestWorkerBackWithAnotherModelIsRelearned(t *testing.T) {
	w := workertest.New(t, "w")
	w.SetModel("old")
	cfg := testConfig(w.URL)
	cfg.HealthFailureThreshold, cfg.HealthSuccessThreshold = 1, 1
	a, _ := startApp(t, cfg)
	wk := a.pools[0].Registry.Get(w.URL)
	waitUntil(t, "model old learned", func() bool { return wk.Model() == "old" })
	w.SetHealthy(false)
	waitUntil(t, "the worker down", func() bool { return !wk.Healthy() })
	w.SetModel("new")
	w.SetHealthy(true)
	waitUntil(t, "model new learned", func() bool { return wk.Model() == "new" && wk.Healthy() })
}

// With dp_aware, the ranks of one server learn its model together, and a
// request for a model goes to a rank of a server of that model.
func TestDPAwareRanksShareTheirServersModel(t *testing.T) {
	cluster := startSim(t, sim.Config{Workers: 2, DPSize: 2, Models: []string{"alpha", "beta"}})
	cfg := testConfig(cluster.URLs()...)
	cfg.DPAware = true
	a, _ := startApp(t, cfg)
	waitLong(t, "four ranks with their models", func() bool {
		ws := a.pools[0].Registry.Snapshot()
		if len(ws) != 4 {
			return false
		}
		for _, w := range ws {
			if w.Model() != map[string]string{cluster.URLs()[0]: "alpha", cluster.URLs()[1]: "beta"}[w.BaseURL()] {
				return false
			}
		}
		return true
	})
	for range 4 {
		if s, b := post(t, "http://"+a.Addr()+"/generate", `{"text":"x","model":"beta","sampling_params":{"max_new_tokens":1}}`); s != 200 {
			t.Fatalf("beta: %d %s", s, b)
		}
	}
	if st := cluster.Stats(); st[0].Requests != 0 || st[1].Requests != 4 {
		t.Errorf("requests by server %d/%d; want all 4 on beta's server", st[0].Requests, st[1].Requests)
	}
}
