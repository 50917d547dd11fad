package sim

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestInfoEndpoints(t *testing.T) {
	_, ts := testServer(t, Config{Model: "org/model-7b", BlockSize: 8, MaxRunningRequests: 3})
	cases := []struct {
		path  string
		check func(t *testing.T, body []byte)
	}{
		{"/health", func(t *testing.T, body []byte) {
			if len(body) != 0 {
				t.Fatalf("body %q", body)
			}
		}},
		{"/health_generate", nil},
		{"/get_model_info", func(t *testing.T, body []byte) {
			var m map[string]any
			mustUnmarshal(t, body, &m)
			if m["model_path"] != "org/model-7b" || m["is_generation"] != true {
				t.Fatalf("model info %v", m)
			}
		}},
		{"/get_server_info", func(t *testing.T, body []byte) {
			var m map[string]any
			mustUnmarshal(t, body, &m)
			if m["model_path"] != "org/model-7b" || m["page_size"] != 8.0 || m["max_running_requests"] != 3.0 || m["disaggregation_mode"] != "null" {
				t.Fatalf("server info %v", m)
			}
			if sim := obj(t, m["sim"]); sim["block_size"] != 8.0 || sim["role"] != "regular" {
				t.Fatalf("sim config %v", sim)
			}
		}},
		{"/v1/models", func(t *testing.T, body []byte) {
			var m map[string]any
			mustUnmarshal(t, body, &m)
			data := m["data"].([]any)
			if m["object"] != "list" || len(data) != 1 || obj(t, data[0])["id"] != "org/model-7b" || obj(t, data[0])["object"] != "model" {
				t.Fatalf("models %v", m)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			code, body := get(t, ts.URL+tc.path)
			if code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
			if tc.check != nil {
				tc.check(t, body)
			}
		})
	}
}

func TestUnknownRouteIs404(t *testing.T) {
	_, ts := testServer(t, Config{})
	if code, _ := get(t, ts.URL+"/nope"); code != http.StatusNotFound {
		t.Fatalf("status %d", code)
	}
	if code, _ := get(t, ts.URL+"/generate"); code != http.StatusMethodNotAllowed {
		t.Fatalf("GET /generate: status %d", code)
	}
}

func TestGetLoadCountsRunningAndWaiting(t *testing.T) {
	for _, format := range []string{LoadFormatObject, LoadFormatList} {
		t.Run(format, func(t *testing.T) {
			// Real time, 1 s per decode step: requests stay in flight while we look.
			s, ts := testServer(t, Config{TimeScale: 1, DecodeTokensPerSec: 1, MaxRunningRequests: 1, LoadFormat: format})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			for range 3 {
				go func() {
					req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+"/generate",
						strings.NewReader(`{"text": "a b c d", "sampling_params": {"max_new_tokens": 5}}`))
					if resp, err := http.DefaultClient.Do(req); err == nil {
						resp.Body.Close()
					}
				}()
			}
			waitFor(t, func() bool { st := s.Stats(); return st.Running == 1 && st.Queued == 2 })
			_, body := get(t, ts.URL+"/get_load")
			var m map[string]any
			if format == LoadFormatList {
				var list []map[string]any
				mustUnmarshal(t, body, &list)
				m = list[0]
			} else {
				mustUnmarshal(t, body, &m)
				if m["load"] == nil {
					t.Fatalf("object format lacks load: %s", body)
				}
			}
			if m["num_reqs"] != 3.0 || m["num_waiting_reqs"] != 2.0 || m["num_tokens"].(float64) < 12 || m["dp_rank"] != 0.0 {
				t.Fatalf("load %s", body)
			}
			cancel()
			waitFor(t, func() bool { st := s.Stats(); return st.Running == 0 && st.Queued == 0 && st.Aborted == 3 })
		})
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5 s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestFlushCache(t *testing.T) {
	s, ts := testServer(t, Config{BlockSize: 4})
	body := fmt.Sprintf(`{"text": %q, "sampling_params": {"max_new_tokens": 1}}`, words(0, 20))
	post(t, ts.URL+"/generate", body)
	if s.Stats().CacheTokens == 0 {
		t.Fatal("nothing cached")
	}
	if code, _ := post(t, ts.URL+"/flush_cache", ""); code != http.StatusOK {
		t.Fatalf("flush status %d", code)
	}
	if s.Stats().CacheTokens != 0 {
		t.Fatal("flush left tokens")
	}
	var r genResp
	_, out := post(t, ts.URL+"/generate", body)
	mustUnmarshal(t, out, &r)
	if r.MetaInfo.CachedTokens != 0 {
		t.Fatalf("cached %d after flush", r.MetaInfo.CachedTokens)
	}
}

func TestMetrics(t *testing.T) {
	_, ts := testServer(t, Config{BlockSize: 4, Model: "m"})
	body := fmt.Sprintf(`{"text": %q, "sampling_params": {"max_new_tokens": 3}}`, words(0, 10))
	post(t, ts.URL+"/generate", body)
	post(t, ts.URL+"/generate", body)
	code, text := get(t, ts.URL+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	for _, want := range []string{
		`sglang:prompt_tokens_total{model_name="m"} 20`,
		`sglang:cached_tokens_total{model_name="m"} 8`,
		`sglang:generation_tokens_total{model_name="m"} 6`,
		`sglang:num_requests_total{model_name="m"} 2`,
		`sglang:num_running_reqs{model_name="m"} 0`,
		`sglang:num_queue_reqs{model_name="m"} 0`,
		`sglang:cache_hit_rate{model_name="m"} 0.4`,
		`sglang:time_to_first_token_seconds_count{model_name="m"} 2`,
		`sglang:e2e_request_latency_seconds_bucket{model_name="m",le="+Inf"} 2`,
	} {
		if !strings.Contains(string(text), want+"\n") {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestServersHaveSeparateRegistries(t *testing.T) {
	a, _ := testServer(t, Config{})
	b, _ := testServer(t, Config{})
	if a.Registry() == b.Registry() {
		t.Fatal("registries shared")
	}
}
