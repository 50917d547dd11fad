package router

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/sgl-project/sglang-router-go/go/worker"
	"github.com/sgl-project/sglang-router-go/go/worker/workertest"
)

func TestHealthAndReadiness(t *testing.T) {
	f := newFixture(t, testOptions(), "w0", "w1")
	if resp, body := f.do("GET", "/health", ""); resp.StatusCode != 200 || body != "All servers healthy" {
		t.Fatalf("health: %d %q", resp.StatusCode, body)
	}
	if resp, body := f.do("GET", "/liveness", ""); resp.StatusCode != 200 || body != "OK" {
		t.Fatalf("liveness: %d %q", resp.StatusCode, body)
	}
	f.worker(1).SetHealthy(false)
	resp, body := f.do("GET", "/health", "")
	if resp.StatusCode != 503 || !strings.Contains(body, f.workers[1].URL) || strings.Contains(body, f.workers[0].URL) {
		t.Fatalf("health with one down: %d %q", resp.StatusCode, body)
	}
	resp, body = f.do("GET", "/readiness", "")
	var ready map[string]any
	_ = json.Unmarshal([]byte(body), &ready)
	if resp.StatusCode != 200 || ready["healthy_workers"] != 1.0 || ready["total_workers"] != 2.0 {
		t.Fatalf("readiness: %d %s", resp.StatusCode, body)
	}
	f.worker(0).SetHealthy(false)
	if resp, _ := f.do("GET", "/readiness", ""); resp.StatusCode != 503 {
		t.Fatalf("readiness with none healthy: %d", resp.StatusCode)
	}
}

func TestAddListRemoveWorkers(t *testing.T) {
	f := newFixture(t, testOptions(), "w0")
	extra := workertest.New(t, "extra")
	spelled := strings.Replace(extra.URL, "http://", "HTTP://", 1) + "/"
	if resp, body := f.do("POST", "/add_worker?url="+url.QueryEscape(spelled), ""); resp.StatusCode != 200 || body != "Successfully added worker: "+extra.URL {
		t.Fatalf("add: %d %s", resp.StatusCode, body)
	}
	if len(f.admin.specs) != 1 || f.admin.specs[0].URL != extra.URL || f.admin.hows[0] != worker.WhenHealthy {
		t.Fatalf("the app was asked %+v %v; want the normalised URL, waiting for health", f.admin.specs, f.admin.hows)
	}
	if resp, body := f.do("POST", "/add_worker?url="+extra.URL, ""); resp.StatusCode != 400 || !strings.Contains(body, "already exists") {
		t.Fatalf("second add: %d %s", resp.StatusCode, body)
	}
	_, body := f.do("GET", "/list_workers", "")
	var list struct{ URLs []string }
	_ = json.Unmarshal([]byte(body), &list)
	if len(list.URLs) != 2 || list.URLs[1] != extra.URL {
		t.Fatalf("list: %s", body)
	}
	if resp, _ := f.do("POST", "/remove_worker?url="+f.workers[0].URL+"/", ""); resp.StatusCode != 200 {
		t.Fatalf("remove: %d", resp.StatusCode)
	}
	f.do("POST", "/generate", `{"text":"a"}`)
	if extra.Served() != 1 || f.workers[0].Served() != 0 {
		t.Errorf("after removal requests went to w0=%d extra=%d", f.workers[0].Served(), extra.Served())
	}
}

func TestWorkerErrorsMapToStatuses(t *testing.T) {
	f := newFixture(t, testOptions(), "w0")
	for _, tc := range []struct {
		err    error
		status int
	}{
		{fmt.Errorf("%w: x", worker.ErrInvalidSpec), 400},
		{fmt.Errorf("%w: x", worker.ErrExists), 400},
		{fmt.Errorf("%w: x", worker.ErrNotReady), 400},
		{fmt.Errorf("%w: x", worker.ErrBusy), 503},
	} {
		f.admin.err = tc.err
		if resp, body := f.do("POST", "/add_worker?url=http://h:1", ""); resp.StatusCode != tc.status || !strings.Contains(body, tc.err.Error()) {
			t.Errorf("%v: %d %s, want %d", tc.err, resp.StatusCode, body, tc.status)
		}
	}
	f.admin.err = nil
	for _, tc := range []struct {
		path, want string
		status     int
	}{
		{"/add_worker?url=ftp://h:1", "scheme must be http or https", 400},
		{"/add_worker?url=grpc://h:1", "grpc:// workers (the original router's gRPC mode) are not supported", 400},
		{"/add_worker?url=http://u:secret@h:1", "credentials", 400},
		{"/add_worker?url=http://h:1&role=middle", "role must be", 400},
		{"/add_worker?url=http://h:1&role=prefill&bootstrap_port=x", "Invalid bootstrap port: x. Must be a number or 'none'", 400},
		{"/add_worker?url=http://h:1&bootstrap_port=9000", "prefill workers only", 400},
		{"/remove_worker", "missing url", 400},
		{"/remove_worker?url=http://127.0.0.1:1", "worker not found", 404},
	} {
		resp, body := f.do("POST", tc.path, "")
		if resp.StatusCode != tc.status || !strings.Contains(body, tc.want) || strings.Contains(body, "secret") {
			t.Errorf("%s: %d %s, want %d mentioning %q", tc.path, resp.StatusCode, body, tc.status, tc.want)
		}
	}
}

func TestFlushCacheAndLoads(t *testing.T) {
	f := newFixture(t, testOptions(), "w0", "w1")
	f.workers[0].Load.Store(7)
	if resp, _ := f.do("POST", "/flush_cache", ""); resp.StatusCode != 200 {
		t.Fatalf("flush: %d", resp.StatusCode)
	}
	if f.workers[0].Count("/flush_cache") != 1 || f.workers[1].Count("/flush_cache") != 1 {
		t.Error("flush did not reach every worker")
	}
	f.workers[1].Close()
	if resp, _ := f.do("POST", "/flush_cache", ""); resp.StatusCode != 500 {
		t.Fatalf("flush with a dead worker: %d", resp.StatusCode)
	}
	_, body := f.do("GET", "/get_loads", "")
	var loads struct {
		Workers []workerLoad `json:"workers"`
	}
	if err := json.Unmarshal([]byte(body), &loads); err != nil || len(loads.Workers) != 2 {
		t.Fatalf("loads: %s", body)
	}
	if loads.Workers[0].Load != 7 || loads.Workers[1].Load != -1 {
		t.Errorf("loads %+v, want 7 and -1", loads.Workers)
	}
}

func TestInfoRoutesForwardToAHealthyWorker(t *testing.T) {
	f := newFixture(t, testOptions(), "w0", "w1")
	f.worker(0).SetHealthy(false)
	for _, path := range []string{"/v1/models", "/get_model_info", "/get_server_info", "/health_generate"} {
		resp, body := f.do("GET", path, "")
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		if f.workers[1].Count(path) != 1 || f.workers[0].Count(path) != 0 {
			t.Errorf("%s went to the wrong worker", path)
		}
	}
}
