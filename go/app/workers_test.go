package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sgl-project/sglang-router-go/go/config"
	"github.com/sgl-project/sglang-router-go/go/logging"
	"github.com/sgl-project/sglang-router-go/go/worker"
	"github.com/sgl-project/sglang-router-go/go/worker/workertest"
)

func spec(t *testing.T, raw string, role worker.Role) worker.Spec {
	t.Helper()
	s, err := worker.ParseSpec(raw, role, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAddWorkerWaitsForHealthAndOneURLIsOneWorker(t *testing.T) {
	w0, extra := workertest.New(t, "w0"), workertest.New(t, "extra")
	a, _ := startApp(t, testConfig(w0.URL))
	base := "http://" + a.Addr()
	spelled := strings.Replace(extra.URL, "http://", "HTTP://", 1) + "/"
	if s, body := post(t, base+"/add_worker?url="+spelled, ""); s != 200 || !strings.Contains(body, extra.URL) {
		t.Fatalf("add: %d %s", s, body)
	}
	if w := a.pools[0].Registry.Get(extra.URL); w == nil || !w.Healthy() {
		t.Fatal("a worker added after a passing health check should be in the pool, healthy")
	}
	if s, body := post(t, base+"/add_worker?url="+extra.URL, ""); s != 400 || !strings.Contains(body, "already exists") {
		t.Fatalf("second add of the same worker: %d %s", s, body)
	}
	if s, body := post(t, base+"/remove_worker?url="+extra.URL+"/", ""); s != 200 {
		t.Fatalf("remove by another spelling: %d %s", s, body)
	}
	if s, _ := post(t, base+"/remove_worker?url="+extra.URL, ""); s != 404 {
		t.Fatalf("second remove: %d", s)
	}
}

// readyOnly is a worker whose health check is GET /ready; every other
// path is 404. It records the paths it was asked for.
type readyOnly struct {
	*httptest.Server
	mu    sync.Mutex // guards paths
	paths []string
}

func newReadyOnly(t *testing.T) *readyOnly {
	s := &readyOnly{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.paths = append(s.paths, r.URL.Path)
		s.mu.Unlock()
		if r.URL.Path != "/ready" {
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *readyOnly) asked() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.paths...)
}

func TestAddWorkerAndTheCheckerProbeTheHealthCheckEndpoint(t *testing.T) {
	cfg := testConfig()
	cfg.HealthCheckEndpoint = "/ready"
	w := newReadyOnly(t)
	cfg.WorkerModels = map[string]string{w.URL: "m"} // given: nothing asked of the worker but its health
	a, _ := startApp(t, cfg)
	if s, body := post(t, "http://"+a.Addr()+"/add_worker?url="+w.URL, ""); s != 200 {
		t.Fatalf("add of a worker healthy on /ready: %d %s", s, body)
	}
	added := a.pools[0].Registry.Get(w.URL)
	if added == nil || !a.checker.CheckOne(context.Background(), added) {
		t.Fatal("the checker should find the added worker healthy on /ready")
	}
	for _, p := range w.asked() {
		if p != "/ready" {
			t.Errorf("probed %s; only health_check_endpoint /ready should be", p)
		}
	}

	def, _ := startApp(t, testConfig()) // health_check_endpoint /health: the same worker never answers it
	err := def.AddWorker(context.Background(), spec(t, w.URL, worker.Regular), worker.WhenHealthy)
	if !errors.Is(err, worker.ErrNotReady) || !strings.Contains(err.Error(), w.URL+"/health did not answer") {
		t.Fatalf("add probing /health: %v", err)
	}
}

func TestAddWorkerTimesOutOnUnhealthyWorker(t *testing.T) {
	a, _ := startApp(t, testConfig())
	sick := workertest.New(t, "sick")
	sick.SetHealthy(false)
	err := a.AddWorker(context.Background(), spec(t, sick.URL, worker.Regular), worker.WhenHealthy)
	if !errors.Is(err, worker.ErrNotReady) || !strings.Contains(err.Error(), "did not become healthy") {
		t.Fatalf("got %v", err)
	}
	if a.pools[0].Registry.Get(sick.URL) != nil {
		t.Error("an unhealthy worker was added")
	}
	if err := a.AddWorker(context.Background(), spec(t, sick.URL, worker.Regular), worker.AfterCheck); err != nil {
		t.Fatalf("add without waiting: %v", err)
	}
	if w := a.pools[0].Registry.Get(sick.URL); w == nil || w.Healthy() {
		t.Error("a worker added without waiting should join unhealthy, for the health checker to admit")
	}
}

func TestAddWorkerWithAnUnresolvableHostFailsAtOnce(t *testing.T) {
	cfg := testConfig()
	cfg.WorkerStartupTimeoutSecs = 600 // the old behaviour: poll for this long
	a, _ := startApp(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := a.AddWorker(ctx, spec(t, "http://no-such-host.invalid:8000", worker.Regular), worker.WhenHealthy)
	if !errors.Is(err, worker.ErrNotReady) || !strings.Contains(err.Error(), "does not resolve") {
		t.Fatalf("got %v; want a not-ready error saying the host does not resolve", err)
	}
	s, body := post(t, "http://"+a.Addr()+"/add_worker?url=http://no-such-host.invalid:8000", "")
	if s != 400 || !strings.Contains(body, "does not resolve") {
		t.Fatalf("/add_worker: %d %s", s, body)
	}
}

func TestAddWorkerRefusesTheRoutersOwnAddress(t *testing.T) {
	a, _ := startApp(t, testConfig())
	_, port, _ := net.SplitHostPort(a.Addr())
	for _, host := range []string{"127.0.0.1", "localhost", "LOCALHOST", "0.0.0.0"} {
		err := a.AddWorker(context.Background(), spec(t, "http://"+host+":"+port, worker.Regular), worker.AfterCheck)
		if !errors.Is(err, worker.ErrInvalidSpec) || !strings.Contains(err.Error(), "own address") {
			t.Errorf("%s: %v; want it refused as the router's own address", host, err)
		}
	}
	other := "http://127.0.0.2:" + port // another loopback address than the one listened on
	if err := a.AddWorker(context.Background(), spec(t, other, worker.Regular), worker.AfterCheck); err != nil {
		t.Errorf("%s is not this router: %v", other, err)
	}
	s, body := post(t, "http://"+a.Addr()+"/add_worker?url=http://localhost:"+port, "")
	if s != 400 || !strings.Contains(body, "own address") {
		t.Errorf("/add_worker of itself: %d %s", s, body)
	}
}

func TestAddWorkerRefusesAnyLocalAddressWhenListeningOnAWildcard(t *testing.T) {
	cfg := testConfig()
	cfg.Host = "0.0.0.0"
	a, _ := startApp(t, cfg)
	_, port, _ := net.SplitHostPort(a.Addr())
	hosts := []string{"127.0.0.1", "127.9.9.9", "localhost", "[::1]"}
	if ip := interfaceIP(); ip != "" {
		hosts = append(hosts, ip)
	}
	for _, host := range hosts {
		err := a.AddWorker(context.Background(), spec(t, "http://"+host+":"+port, worker.Regular), worker.AfterCheck)
		if !errors.Is(err, worker.ErrInvalidSpec) {
			t.Errorf("%s: %v; want it refused as the router's own address", host, err)
		}
	}
	n, _ := strconv.Atoi(port)
	elsewhere := "http://127.0.0.1:" + strconv.Itoa(n%65535+1)
	if err := a.AddWorker(context.Background(), spec(t, elsewhere, worker.Regular), worker.AfterCheck); err != nil {
		t.Errorf("another port is another server: %v", err)
	}
}

// interfaceIP returns a non-loopback IPv4 address of this machine, or "".
func interfaceIP() string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	return ""
}

func TestStartRefusesAStaticWorkerAtItsOwnAddress(t *testing.T) {
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := probe.Addr().(*net.TCPAddr).Port
	probe.Close()
	cfg := testConfig("http://localhost:" + strconv.Itoa(port))
	cfg.Port = port
	a, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ae *Error
	err = a.Start()
	if !errors.As(err, &ae) || ae.Class != ClassConfig || !strings.Contains(err.Error(), "worker_urls") || !strings.Contains(err.Error(), "own address") {
		t.Fatalf("start: %v; want a config error naming worker_urls", err)
	}
	if ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port)); err != nil {
		t.Errorf("the refused start kept its port: %v", err)
	} else {
		ln.Close()
	}
}

func TestOneServerCannotJoinTwoPools(t *testing.T) {
	p, d := workertest.New(t, "p"), workertest.New(t, "d")
	cfg := testConfig()
	cfg.PDDisaggregation = true
	cfg.PrefillURLs = []config.PrefillURL{{URL: p.URL}}
	cfg.DecodeURLs = []string{d.URL}
	a, _ := startApp(t, cfg)
	err := a.AddWorker(context.Background(), spec(t, p.URL, worker.Decode), worker.AfterCheck)
	if !errors.Is(err, worker.ErrExists) || !strings.Contains(err.Error(), "prefill") {
		t.Fatalf("prefill worker added as decode: %v", err)
	}
	if err := a.AddWorker(context.Background(), spec(t, "http://127.0.0.1:1", worker.Regular), worker.AfterCheck); !errors.Is(err, worker.ErrInvalidSpec) {
		t.Fatalf("regular worker in PD mode: %v", err)
	}
}

func TestConcurrentAddsOfOneServerToTwoPoolsAdmitOne(t *testing.T) {
	cfg := testConfig()
	cfg.PDDisaggregation = true
	cfg.PrefillURLs = []config.PrefillURL{{URL: "http://127.0.0.1:1"}}
	cfg.DecodeURLs = []string{"http://127.0.0.1:2"}
	a, _ := startApp(t, cfg)
	for round := range 50 {
		url := fmt.Sprintf("http://127.0.0.1:3/r%d", round)
		errs := make(chan error, 2)
		for _, role := range []worker.Role{worker.Prefill, worker.Decode} {
			s := spec(t, url, role)
			go func() { errs <- a.AddWorker(context.Background(), s, worker.AfterCheck) }()
		}
		e1, e2 := <-errs, <-errs
		if (e1 == nil) == (e2 == nil) || !errors.Is(errors.Join(e1, e2), worker.ErrExists) {
			t.Fatalf("round %d: %v and %v; want exactly one add to succeed", round, e1, e2)
		}
	}
}

func TestPendingAddsAreBoundedAndEndAtShutdown(t *testing.T) {
	cfg := testConfig()
	cfg.WorkerStartupTimeoutSecs = 600
	a, _ := startApp(t, cfg)
	dead := func(i int) worker.Spec { return spec(t, fmt.Sprintf("http://127.0.0.1:1/w%d", i), worker.Regular) }
	errs := make(chan error, maxPendingAdds)
	for i := range maxPendingAdds {
		go func() { errs <- a.AddWorker(context.Background(), dead(i), worker.WhenHealthy) }()
	}
	waitUntil(t, "every add waiting", func() bool { return len(a.pendingAdds) == maxPendingAdds })
	if err := a.AddWorker(context.Background(), dead(-1), worker.WhenHealthy); !errors.Is(err, worker.ErrBusy) {
		t.Fatalf("add beyond the bound: %v", err)
	}
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for range maxPendingAdds {
		select {
		case err := <-errs:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("a pending add ended with %v; want it cancelled by the shutdown", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("shutdown left adds waiting")
		}
	}
}

func TestStartupReportsUnresolvableHostsAndWhatItWaitsFor(t *testing.T) {
	cfg := testConfig("http://no-such-host.invalid:8000", "http://127.0.0.1:1")
	cfg.WorkerStartupTimeoutSecs = 600
	a, logs := startApp(t, cfg)
	waitUntil(t, "the unresolvable host reported", func() bool {
		return strings.Contains(logs.String(), "worker host does not resolve")
	})
	waitUntil(t, "a still-waiting line", func() bool {
		return strings.Contains(logs.String(), "still waiting for 2 workers: http://no-such-host.invalid:8000, http://127.0.0.1:1")
	})
	if a.Err() != nil {
		t.Fatalf("startup failed before its timeout: %v", a.Err())
	}
}

func TestAdminRoutesOpenWarning(t *testing.T) {
	_, logs := startApp(t, testConfig())
	if !strings.Contains(logs.String(), "admin routes are open") {
		t.Errorf("no warning that admin routes are open:\n%s", logs.String())
	}
	cfg := testConfig()
	cfg.AdminAPIKey = "k"
	_, logs = startApp(t, cfg)
	if strings.Contains(logs.String(), "admin routes are open") {
		t.Errorf("warning despite an admin key:\n%s", logs.String())
	}
}

// routerTestNames resolves router.test to loopback, as a machine's own
// host name often does.
func routerTestNames(_ context.Context, host string) ([]netip.Addr, error) {
	if host == "router.test" {
		return []netip.Addr{netip.MustParseAddr("::ffff:127.0.0.1")}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func TestNamesResolvingToTheRouterAreRefused(t *testing.T) {
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(probe.Addr().(*net.TCPAddr).Port)
	probe.Close()
	w0 := workertest.New(t, "w0")
	cfg := testConfig("http://router.test:"+port, w0.URL)
	cfg.Port, _ = strconv.Atoi(port)
	logs := &syncBuffer{}
	a, err := New(cfg, Options{Logging: logging.Options{Console: logs}, LookupHost: routerTestNames})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Shutdown(context.Background()) })
	waitUntil(t, "the static worker naming the router removed", func() bool {
		return a.pools[0].Registry.Get("http://router.test:"+port) == nil
	})
	if !strings.Contains(logs.String(), "resolves to this router's own address") {
		t.Errorf("the removal was not logged:\n%s", logs.String())
	}
	err = a.AddWorker(context.Background(), spec(t, "http://router.test:"+port, worker.Regular), worker.WhenHealthy)
	if !errors.Is(err, worker.ErrInvalidSpec) || !strings.Contains(err.Error(), "own address") {
		t.Fatalf("add of a name resolving to the router: %v", err)
	}
}

func TestAWorkerThatWasHealthyKeepsTheRouterUpPastTheStartupTimeout(t *testing.T) {
	up, down := workertest.New(t, "up"), workertest.New(t, "down")
	down.SetHealthy(false)
	cfg := testConfig(up.URL, down.URL)
	cfg.WorkerStartupTimeoutSecs = 2
	a, logs := startApp(t, cfg)
	waitUntil(t, "the first worker healthy", func() bool { return strings.Contains(logs.String(), "worker healthy") })
	up.SetHealthy(false)
	a.pools[0].Registry.Get(up.URL).SetHealthy(false) // none healthy when the startup timeout passes
	stopped := func() bool {
		select {
		case <-a.Done():
			return true
		default:
			return false
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for !stopped() && !strings.Contains(logs.String(), "startup timeout passed with") {
		if time.Now().After(deadline) {
			t.Fatalf("the startup timeout never passed:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if stopped() {
		t.Fatalf("the router stopped though a worker had been healthy: %v", a.Err())
	}
}
