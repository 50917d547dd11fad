package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sgl-project/sglang-router-go/go/config"
	"github.com/sgl-project/sglang-router-go/go/sim"
)

// A real Prometheus server (Debian's prometheus package in CI) scrapes the
// router's /metrics: the exposition must parse, and counters must arrive
// exactly. The same server then evaluates every query of the Grafana
// dashboard, so a PromQL syntax error there fails too. The test takes about
// 5 s: Prometheus applies scrape targets on a 5 s tick, whatever the scrape
// interval.

const (
	requirePrometheusEnv = "SGLANG_ROUTER_REQUIRE_PROMETHEUS" // "1": fail instead of skipping when absent
	prometheusPathEnv    = "SGLANG_ROUTER_PROMETHEUS"         // optional path to the binary
	promSettle           = 20 * time.Second                   // bound on waiting for one value
)

// grafanaDashboard is deploy/grafana's dashboard, from this package's folder.
const grafanaDashboard = "../../deploy/grafana/sglang-router.json"

func TestRealPrometheusScrapesTheRouter(t *testing.T) {
	bin := prometheusBinary(t)
	cluster := startSim(t, sim.Config{Workers: 2}) // TimeScale 0: instant answers
	cfg := testConfig(cluster.URLs()...)
	cfg.Policy = config.PolicyRoundRobin
	cfg.PrometheusHost = "127.0.0.1"
	a, _ := startApp(t, cfg)
	waitUntil(t, "both workers healthy", func() bool {
		_, b := get(t, "http://"+a.Addr()+"/readiness")
		return strings.Contains(b, `"healthy_workers":2`)
	})
	prom := startPrometheus(t, bin, a.MetricsAddr())

	const requests = 12 // even, so round robin gives each worker half
	for i := range requests {
		body := `{"text":"hello","sampling_params":{"max_new_tokens":3}}`
		if i%2 == 1 {
			body = `{"text":"hello","stream":true,"sampling_params":{"max_new_tokens":3}}`
		}
		if s, b := post(t, "http://"+a.Addr()+"/generate", body); s != 200 {
			t.Fatalf("request %d: %d %s", i, s, b)
		}
	}

	prom.waitFor(t, `sgl_router_requests_total{route="/generate"}`, "", map[string]float64{"": requests})
	prom.waitFor(t, `sgl_router_request_duration_seconds_count{route="/generate"}`, "", map[string]float64{"": requests})
	prom.waitFor(t, `sgl_router_time_to_first_token_seconds_count{route="/generate"}`, "", map[string]float64{"": requests})
	perWorker := map[string]float64{}
	healthy := map[string]float64{}
	for _, u := range cluster.URLs() {
		perWorker[u], healthy[u] = requests/2, 1
	}
	prom.waitFor(t, `sgl_router_processed_requests_total`, "worker", perWorker)
	prom.waitFor(t, `sgl_router_worker_health`, "worker", healthy)

	t.Run("dashboard queries are valid PromQL", func(t *testing.T) { checkDashboardQueries(t, prom) })
}

// prometheusBinary finds Prometheus: $SGLANG_ROUTER_PROMETHEUS, else
// `prometheus` on PATH, else /usr/bin/prometheus. Without one the test skips,
// or fails when SGLANG_ROUTER_REQUIRE_PROMETHEUS=1 (CI).
func prometheusBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(prometheusPathEnv); p != "" {
		return p
	}
	if p, err := exec.LookPath("prometheus"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/bin/prometheus"); err == nil {
		return "/usr/bin/prometheus"
	}
	msg := "no prometheus binary ($" + prometheusPathEnv + ", PATH, /usr/bin/prometheus); " +
		"install it with `apt-get install prometheus`"
	if os.Getenv(requirePrometheusEnv) == "1" {
		t.Fatal(msg + " (" + requirePrometheusEnv + "=1 requires it)")
	}
	t.Skip(msg + ", or set " + requirePrometheusEnv + "=1 to fail instead of skipping")
	return ""
}

// promServer is a Prometheus process owned by one test.
type promServer struct {
	base   string      // http://127.0.0.1:PORT
	logs   *syncBuffer // its stdout and stderr, for failure messages
	client *http.Client
}

// startPrometheus runs Prometheus scraping target every 200ms, with its
// storage in a temporary folder, and waits until it is ready. The process is
// killed when the test ends. An early exit (say, the port was taken between
// choosing and binding it) is retried with another port.
func startPrometheus(t *testing.T, bin, target string) *promServer {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "prometheus.yml")
	yml := fmt.Sprintf(`global:
  scrape_interval: 200ms
  scrape_timeout: 200ms
scrape_configs:
  - job_name: sglang-router
    static_configs:
      - targets: [%q]
`, target)
	if err := os.WriteFile(cfgPath, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs *syncBuffer
	for attempt := range 3 {
		p, err := launchPrometheus(t, bin, cfgPath, filepath.Join(dir, "data"+strconv.Itoa(attempt)))
		if err == nil {
			return p
		}
		logs = p.logs
		t.Logf("prometheus attempt %d: %v", attempt+1, err)
		if errors.Is(err, errNotReady) {
			break // running but stuck: another port would not help
		}
	}
	t.Fatalf("prometheus did not start:\n%s", logs)
	return nil
}

var errNotReady = errors.New("not ready")

func launchPrometheus(t *testing.T, bin, cfgPath, dataDir string) (*promServer, error) {
	t.Helper()
	addr := freeLoopbackAddr(t)
	p := &promServer{base: "http://" + addr, logs: &syncBuffer{}, client: &http.Client{Timeout: 2 * time.Second}}
	cmd := exec.Command(bin, "--config.file="+cfgPath, "--storage.tsdb.path="+dataDir,
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	if err := cmd.Start(); err != nil {
		return p, err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
	deadline := time.After(promSettle)
	for {
		if s, _ := p.get("/-/ready"); s == http.StatusOK {
			return p, nil
		}
		select {
		case <-exited:
			return p, fmt.Errorf("exited before ready (%s)", cmd.ProcessState)
		case <-deadline:
			return p, fmt.Errorf("%w after %s", errNotReady, promSettle)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func (p *promServer) get(path string) (int, []byte) {
	resp, err := p.client.Get(p.base + path)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// promAnswer is the body of /api/v1/query.
type promAnswer struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"` // [unix time, "value"]
		} `json:"result"`
	} `json:"data"`
}

// query runs an instant query through Prometheus' HTTP API.
func (p *promServer) query(q string) (promAnswer, error) {
	var a promAnswer
	_, body := p.get("/api/v1/query?query=" + url.QueryEscape(q))
	if err := json.Unmarshal(body, &a); err != nil {
		return a, fmt.Errorf("query %s: %v: %q", q, err, body)
	}
	return a, nil
}

// by sums a vector answer's samples by the value of label; with label ""
// every series is keyed "".
func (a promAnswer) by(label string) map[string]float64 {
	out := map[string]float64{}
	for _, r := range a.Data.Result {
		s, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			v = -1 // never equal to a wanted count
		}
		out[r.Metric[label]] += v
	}
	return out
}

// waitFor polls q until its samples, keyed by label, equal want exactly, and
// fails after promSettle with what Prometheus last answered.
func (p *promServer) waitFor(t *testing.T, q, label string, want map[string]float64) {
	t.Helper()
	deadline := time.Now().Add(promSettle)
	var got map[string]float64
	for {
		a, err := p.query(q)
		if err == nil && a.Status == "success" {
			got = a.by(label)
			if maps.Equal(got, want) {
				return
			}
		}
		if time.Now().After(deadline) {
			up, _ := p.query("up")
			t.Fatalf("Prometheus answers %s = %v (err %v), want %v after %s; up = %+v; logs:\n%s",
				q, got, err, want, promSettle, up.Data.Result, p.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkDashboardQueries evaluates every panel query of the Grafana dashboard,
// with its template variables filled in as Grafana would.
func checkDashboardQueries(t *testing.T, p *promServer) {
	b, err := os.ReadFile(grafanaDashboard)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	exprs := collectExprs(doc, nil)
	if len(exprs) < 20 {
		t.Fatalf("found only %d queries in %s", len(exprs), grafanaDashboard)
	}
	vars := strings.NewReplacer("$__rate_interval", "1m", "${instance}", ".*", "$instance", ".*")
	for _, e := range exprs {
		q := vars.Replace(e)
		if strings.Contains(q, "$") {
			t.Errorf("%q uses a template variable this test does not know", e)
			continue
		}
		a, err := p.query(q)
		if err != nil || a.Status != "success" {
			t.Errorf("Prometheus rejects %q: %v %s %s", q, err, a.ErrorType, a.Error)
		}
	}
}

// collectExprs appends every "expr" string found anywhere in a JSON value.
func collectExprs(v any, out []string) []string {
	switch x := v.(type) {
	case map[string]any:
		if e, ok := x["expr"].(string); ok {
			out = append(out, e)
		}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			out = collectExprs(x[k], out)
		}
	case []any:
		for _, e := range x {
			out = collectExprs(e, out)
		}
	}
	return out
}
