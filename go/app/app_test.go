package app

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sgl-project/sglang-router-go/go/config"
	"github.com/sgl-project/sglang-router-go/go/logging"
	"github.com/sgl-project/sglang-router-go/go/worker/workertest"
)

// syncBuffer is a log sink safe for the app's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testConfig(urls ...string) config.Config {
	c := config.Defaults()
	c.WorkerURLs = urls
	c.Port = 0
	c.PrometheusPort = 0
	c.WorkerStartupCheckInterval = 1
	c.WorkerStartupTimeoutSecs = 1
	return c
}

func startApp(t *testing.T, cfg config.Config) (*App, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	a, err := New(cfg, Options{Logging: logging.Options{Console: logs}})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Shutdown(context.Background()) })
	return a, logs
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestServesOnceAWorkerIsHealthyAndLogsStartup(t *testing.T) {
	w := workertest.New(t, "w0")
	a, logs := startApp(t, testConfig(w.URL))
	waitUntil(t, "worker healthy", func() bool { s, _ := get(t, "http://"+a.Addr()+"/health"); return s == 200 })
	resp, err := http.Post("http://"+a.Addr()+"/generate", "application/json", strings.NewReader(`{"text":"hi"}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("generate: %v %v", resp, err)
	}
	resp.Body.Close()
	for _, want := range []string{"router listening", a.Addr(), "metrics listening", a.MetricsAddr(), w.URL, "worker healthy"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("startup logs lack %q:\n%s", want, logs.String())
		}
	}
	_, metrics := get(t, "http://"+a.MetricsAddr()+"/metrics")
	if !strings.Contains(metrics, `sgl_router_requests_total{route="/generate"} 1`) {
		t.Errorf("metrics lack the request:\n%s", metrics)
	}
}

func TestStartupTimeoutNamesUnreachableWorkers(t *testing.T) {
	cfg := testConfig("http://127.0.0.1:1", "http://127.0.0.1:2")
	a, _ := startApp(t, cfg)
	if s, _ := get(t, "http://"+a.Addr()+"/liveness"); s != 200 {
		t.Fatal("the router should listen before any worker is healthy")
	}
	select {
	case <-a.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("app did not stop after the startup timeout")
	}
	var ae *Error
	if !errors.As(a.Err(), &ae) || ae.Class != ClassStartupTimeout {
		t.Fatalf("err = %v, want a startup_timeout error", a.Err())
	}
	for _, u := range cfg.WorkerURLs {
		if !strings.Contains(a.Err().Error(), u) {
			t.Errorf("error %q does not name %s", a.Err(), u)
		}
	}
}

func TestTwoRoutersSideBySide(t *testing.T) {
	w0, w1 := workertest.New(t, "w0"), workertest.New(t, "w1")
	a, _ := startApp(t, testConfig(w0.URL))
	b, _ := startApp(t, testConfig(w1.URL))
	for _, x := range []*App{a, b} {
		waitUntil(t, "ready", func() bool { s, _ := get(t, "http://"+x.Addr()+"/readiness"); return s == 200 })
		_, body := get(t, "http://"+x.Addr()+"/get_model_info")
		if x == a && !strings.Contains(body, "w0") || x == b && !strings.Contains(body, "w1") {
			t.Errorf("router %s answered from the wrong worker: %s", x.Addr(), body)
		}
	}
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s, _ := get(t, "http://"+b.Addr()+"/liveness"); s != 200 {
		t.Error("stopping one router disturbed the other")
	}
}

func TestBindErrorAndConfigErrorAreClassified(t *testing.T) {
	a, _ := startApp(t, testConfig())
	cfg := testConfig()
	host, port, _ := strings.Cut(a.Addr(), ":")
	cfg.Host = host
	cfg.Port, _ = strconv.Atoi(port)
	b, err := New(cfg, Options{Logging: logging.Options{Console: io.Discard}})
	if err != nil {
		t.Fatal(err)
	}
	var ae *Error
	if err := b.Start(); !errors.As(err, &ae) || ae.Class != ClassBind {
		t.Fatalf("start on a used port: %v", err)
	}
	bad := testConfig()
	bad.CacheThreshold = 2
	if _, err := New(bad, Options{}); !errors.As(err, &ae) || ae.Class != ClassConfig || !strings.Contains(err.Error(), "cache_threshold") {
		t.Fatalf("invalid config: %v", err)
	}
}

func TestShutdownLetsInFlightStreamsFinish(t *testing.T) {
	w := workertest.New(t, "w0")
	w.Gate = make(chan struct{})
	a, _ := startApp(t, testConfig(w.URL))
	waitUntil(t, "healthy", func() bool { s, _ := get(t, "http://"+a.Addr()+"/readiness"); return s == 200 })
	resp, err := http.Post("http://"+a.Addr()+"/generate", "application/json", strings.NewReader(`{"text":"a","stream":true}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	stopped := make(chan error, 1)
	go func() { stopped <- a.Shutdown(context.Background()) }()
	time.Sleep(50 * time.Millisecond)
	close(w.Gate) // let the stream finish
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "[DONE]") {
		t.Errorf("stream cut at shutdown: %q", body)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
}

func TestRequestIDIsInEveryLogLineAboutTheRequest(t *testing.T) {
	failing, w := workertest.New(t, "failing"), workertest.New(t, "w0")
	failing.FailWith(503) // every attempt on it fails and is retried, which is logged
	cfg := testConfig(failing.URL, w.URL)
	cfg.LogLevel = "debug"
	cfg.JSONLog = true
	a, logs := startApp(t, cfg)
	waitUntil(t, "both healthy", func() bool {
		_, b := get(t, "http://"+a.Addr()+"/readiness")
		return strings.Contains(b, `"healthy_workers":2`)
	})
	for range 4 { // round robin: some requests try the failing worker first
		req, _ := http.NewRequest("POST", "http://"+a.Addr()+"/generate", strings.NewReader(`{"text":"a"}`))
		req.Header.Set("X-Correlation-Id", "corr-42")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 || resp.Header.Get("X-Request-Id") != "corr-42" {
			t.Fatalf("%v %v", resp, err)
		}
		resp.Body.Close()
	}
	var about []string
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, `"path":"/generate"`) || strings.Contains(line, "attempt failed") {
			about = append(about, line)
		}
	}
	if len(about) < 5 {
		t.Fatalf("expected request and failed-attempt lines, got:\n%s", logs.String())
	}
	for _, line := range about {
		if !strings.Contains(line, `"request_id":"corr-42"`) {
			t.Errorf("line without the request id: %s", line)
		}
	}
}
