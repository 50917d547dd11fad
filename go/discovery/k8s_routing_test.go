package discovery

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/sgl-project/sglang-router-go/go/metrics"
	"github.com/sgl-project/sglang-router-go/go/policy"
	"github.com/sgl-project/sglang-router-go/go/router"
	"github.com/sgl-project/sglang-router-go/go/worker"
	"github.com/sgl-project/sglang-router-go/go/worker/workertest"
)

// listenAll listens on one port at every ip (pods of a Service share their
// port, each at its own address).
func listenAll(t *testing.T, ips ...string) (int, []net.Listener) {
	t.Helper()
	for try := 0; try < 20; try++ {
		first, err := net.Listen("tcp", ips[0]+":0")
		if err != nil {
			t.Fatal(err)
		}
		port := first.Addr().(*net.TCPAddr).Port
		lns := []net.Listener{first}
		for _, ip := range ips[1:] {
			ln, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
			if err != nil {
				break
			}
			lns = append(lns, ln)
		}
		if len(lns) == len(ips) {
			return port, lns
		}
		for _, ln := range lns {
			ln.Close()
		}
	}
	t.Fatal("no port free on every address")
	return 0, nil
}

// fakeWorkerAt serves a workertest worker on ln.
func fakeWorkerAt(t *testing.T, name string, ln net.Listener) *workertest.Worker {
	w := workertest.New(t, name)
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: w.Config.Handler}}
	srv.Start()
	t.Cleanup(srv.Close)
	return w
}

// registrySink adds discovered workers to a registry the way the app does
// for a vouched worker: healthy at once. (The app, which implements Sink in
// production, imports this package, so its tests cannot be used here.)
type registrySink struct{ reg *worker.Registry }

func (s registrySink) AddWorker(_ context.Context, spec worker.Spec, how worker.Admission) error {
	w := worker.New(spec.URL, spec.Role, spec.BootstrapPort)
	w.SetHealthy(how == worker.Vouched)
	if err := s.reg.Add(w); err != nil {
		return fmt.Errorf("%w: %s", err, spec.URL)
	}
	return nil
}

func (s registrySink) RemoveWorker(url string) error {
	_, err := s.reg.Remove(url)
	return err
}

// newRouter builds a round-robin router over a registry holding the static
// workers, with health checks every 100ms.
func newRouter(t *testing.T, static ...string) (*router.Router, *worker.Registry, *metrics.Metrics) {
	reg := worker.NewRegistry()
	for _, u := range static {
		must(t, reg.Add(worker.New(u, worker.Regular, nil)))
	}
	pol, err := policy.New(policy.NameRoundRobin, policy.Options{})
	must(t, err)
	m, client := metrics.New(true), &http.Client{Timeout: 10 * time.Second}
	rt := router.New(router.Options{MaxPayloadSize: 1 << 20, RequestTimeout: 10 * time.Second, HealthTimeout: time.Second},
		router.Deps{Regular: &router.Pool{Role: worker.Regular, Registry: reg, Policy: pol}, Client: client,
			Recorder: m, Log: zap.NewNop(), Workers: registrySink{reg}})
	chk := &worker.Checker{Client: client, Interval: 100 * time.Millisecond, Timeout: time.Second,
		FailureThreshold: 1, SuccessThreshold: 1}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); chk.Run(ctx, reg) }()
	t.Cleanup(func() { cancel(); <-done })
	return rt, reg, m
}

func healthy(reg *worker.Registry, url string) bool {
	w := reg.Get(url)
	return w != nil && w.Healthy()
}

func generate(t *testing.T, base string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		resp, err := http.Post(base+"/generate", "application/json", strings.NewReader(`{"text":"hello"}`))
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: status %d", i, resp.StatusCode)
		}
	}
}

func metricValue(t *testing.T, m *metrics.Metrics, name string) float64 {
	t.Helper()
	mfs, err := m.Registry().Gather()
	must(t, err)
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			mt := mf.GetMetric()[0]
			if mt.GetCounter() != nil {
				return mt.GetCounter().GetValue()
			}
			return mt.GetGauge().GetValue()
		}
	}
	t.Fatalf("metric %s not found", name)
	return 0
}

func TestDiscoveredPodsServeRequestsBesideStaticWorkers(t *testing.T) {
	e := newEnv(t)
	port, lns := listenAll(t, "127.0.4.1", "127.0.4.2", "127.0.4.3")
	w1, w2, st := fakeWorkerAt(t, "w1", lns[0]), fakeWorkerAt(t, "w2", lns[1]), fakeWorkerAt(t, "static", lns[2])
	at := func(ip string) string { return "http://" + ip + ":" + strconv.Itoa(port) }
	rt, reg, m := newRouter(t, at("127.0.4.3"))
	front := httptest.NewServer(rt)
	defer front.Close()
	d := New(fastRetry(Config{Selector: inference, Namespace: e.ns, Port: port, Kubeconfig: e.kubeconfig}), registrySink{reg}, nil, m)
	defer run(d)()

	var routable []time.Duration
	for i, ip := range []string{"127.0.4.1", "127.0.4.2"} {
		name := fmt.Sprintf("w%d", i+1)
		must(t, e.kube.CreatePod(e.ctx, e.ns, name, inference, nil))
		start := time.Now()
		must(t, e.kube.SetStatus(e.ctx, e.ns, name, ip, true))
		eventually(t, wait, func() string { return name + " never became routable" }, func() bool { return healthy(reg, at(ip)) })
		routable = append(routable, time.Since(start))
	}
	// A pod claiming the static worker's address leaves the static worker be.
	must(t, e.kube.StartPod(e.ctx, e.ns, "impostor", "127.0.4.3", inference, nil))
	eventually(t, wait, func() string { return "static worker not healthy" }, func() bool { return healthy(reg, at("127.0.4.3")) })
	t.Logf("pod Ready -> routable: %s", durations(routable))

	generate(t, front.URL, 30)
	for _, w := range []*workertest.Worker{w1, w2, st} {
		if w.Served() == 0 {
			t.Errorf("%s served nothing", w.Name)
		}
	}
	deleted := time.Now()
	must(t, e.kube.Delete(e.ctx, e.ns, "w1", true))
	eventually(t, wait, func() string { return "w1 still in the pool" }, func() bool { return reg.Get(at("127.0.4.1")) == nil })
	t.Logf("pod deleted -> no longer routed: %s", time.Since(deleted).Round(time.Microsecond))
	must(t, e.kube.Delete(e.ctx, e.ns, "impostor", false))
	before := [3]int64{w1.Served(), w2.Served(), st.Served()}
	generate(t, front.URL, 20)
	if w1.Served() != before[0] || w2.Served() == before[1] || st.Served() == before[2] {
		t.Errorf("served before %v, after [%d %d %d]: want w1 unchanged, w2 and static serving",
			before, w1.Served(), w2.Served(), st.Served())
	}
	if got := len(reg.Snapshot()); got != 2 {
		t.Errorf("%d workers in the pool, want w2 and the static one", got)
	}
	for name, want := range map[string]float64{"sgl_router_discovery_workers_added": 2, "sgl_router_discovery_workers_removed": 1} {
		if got := metricValue(t, m, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if got := metricValue(t, m, "sgl_router_discovery_updates_total"); got < 6 {
		t.Errorf("sgl_router_discovery_updates_total = %v, want at least one per pod change (6)", got)
	}
}
