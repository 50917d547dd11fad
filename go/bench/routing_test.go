package bench

import (
	"bytes"
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sgl-project/sglang-router-go/go/config"
	"github.com/sgl-project/sglang-router-go/go/workload"
)

// tinyRouting is a whole Routing run small enough for a unit test: engines
// that never sleep, a few dozen short requests per workload.
func tinyRouting(t *testing.T, out *bytes.Buffer, policies ...string) RoutingOptions {
	return RoutingOptions{
		Out: out, OutDir: t.TempDir(), Workers: 3, TimeScale: -1, MaxConcurrency: 8,
		Policies:     policies,
		SharedPrefix: workload.SharedPrefix{Groups: 4, PromptsPerGroup: 4, SystemTokens: 96, QuestionTokens: 8, OutputTokens: 4},
		MultiTurn:    workload.MultiTurn{Users: 6, Turns: 3, ActiveUsers: 3, UserTokens: 24, OutputTokens: 4},
		CodingChat:   workload.MultiTurn{Users: 6, Turns: 3, ActiveUsers: 3, UserTokens: 16, OutputTokens: 24},
		NoSharing:    workload.NoSharing{Requests: 12, PromptTokens: 48, OutputTokens: 4},
	}
}

func TestRoutingEndToEndNumbersAddUp(t *testing.T) {
	var out bytes.Buffer
	o := tinyRouting(t, &out, "round_robin", "cache_aware", "cache_aware_original").withDefaults()
	for _, name := range AllWorkloads {
		tb, err := o.testbed(name)
		if err != nil {
			t.Fatal(err)
		}
		res, err := tb.compare(context.Background(), o.Policies, o.Replicas, newProgressWriter(&out))
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 1+len(o.Policies) || res[0].Policy != PolicyOracle {
			t.Fatalf("%s: %d results, first %q", name, len(res), res[0].Policy)
		}
		if o := res[0].OracleHitRate; o < 0 || o > 1 || (name != workload.NameNoSharing && o == 0) {
			t.Errorf("%s: oracle hit rate %v", name, o)
		}
		for _, r := range res[1:] {
			checkRun(t, r, tb)
		}
	}
}

// checkRun asserts that a run's numbers are consistent with its workload.
func checkRun(t *testing.T, r RunResult, tb testbed) {
	t.Helper()
	n := len(tb.wl.Requests)
	var served int64
	for _, k := range r.PerWorker {
		served += k
	}
	switch {
	case r.Errors != 0:
		t.Errorf("%s/%s: %d errors, first %s", r.Workload, r.Policy, r.Errors, r.FirstErr)
	case r.Requests != n || r.Succeeded() != n || served != int64(n) || len(r.PerWorker) != tb.workers:
		t.Errorf("%s/%s: sent %d, succeeded %d, workers served %d over %d workers; want %d", r.Workload, r.Policy,
			r.Requests, r.Succeeded(), served, len(r.PerWorker), n)
	case r.PromptTokens != int64(tb.wl.PromptTokens()) || r.OutputTokens != int64(tb.wl.OutputTokens()):
		t.Errorf("%s/%s: engines counted %d prompt and %d output tokens, want %d and %d", r.Workload, r.Policy,
			r.PromptTokens, r.OutputTokens, tb.wl.PromptTokens(), tb.wl.OutputTokens())
	case r.HitRate() < 0 || r.HitRate() > 1 || r.Balance() < 1 || r.Balance() > float64(tb.workers):
		t.Errorf("%s/%s: hit rate %v, balance %v", r.Workload, r.Policy, r.HitRate(), r.Balance())
	case r.TTFTQuantile(0.99) > r.E2E[len(r.E2E)-1] || r.RPS() <= 0:
		t.Errorf("%s/%s: TTFT p99 %v beyond the slowest request %v, %v req/s", r.Workload, r.Policy,
			r.TTFTQuantile(0.99), r.E2E[len(r.E2E)-1], r.RPS())
	}
}

func TestRoutingWritesTableChartAndMarkdown(t *testing.T) {
	var out bytes.Buffer
	o := tinyRouting(t, &out, "random", "cache_aware")
	if err := Routing(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"workload", "oracle (1 worker, all caches)", "shared-prefix", "skewed-prefix", "multi-turn", "no-sharing", "cache_aware", "routing.svg"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	md, err := os.ReadFile(filepath.Join(o.OutDir, "routing.md"))
	if err != nil || !strings.Contains(string(md), "![Routing quality](routing.svg)") || strings.Count(string(md), "| cache_aware |") != len(AllWorkloads) {
		t.Errorf("routing.md: %v\n%s", err, md)
	}
	svg, err := os.ReadFile(filepath.Join(o.OutDir, "routing.svg"))
	if err != nil {
		t.Fatal(err)
	}
	checkSVG(t, svg, 4*len(AllWorkloads)*2) // four panels, every workload, two policies
}

func TestUnknownPolicyOrWorkloadFailsBeforeAnyRun(t *testing.T) {
	var out bytes.Buffer
	if err := Routing(context.Background(), tinyRouting(t, &out, "least_busy")); err == nil || !strings.Contains(err.Error(), "least_busy") {
		t.Errorf("unknown policy: %v", err)
	}
	o := tinyRouting(t, &out, "random")
	o.Workloads = []string{"chatty"}
	if err := Routing(context.Background(), o); err == nil || !strings.Contains(err.Error(), "chatty") {
		t.Errorf("unknown workload: %v", err)
	}
}

func TestDemoRunsEveryUserPolicy(t *testing.T) {
	var out bytes.Buffer
	dir := t.TempDir()
	err := Demo(context.Background(), DemoOptions{Out: &out, OutDir: dir, Groups: 3, PromptsPerGroup: 3, TimeScale: -1})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range DemoPolicies {
		if !strings.Contains(out.String(), "\n"+p+" ") {
			t.Errorf("demo table lacks %s:\n%s", p, out.String())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "demo.svg")); err != nil {
		t.Error(err)
	}
}

func TestScheduleIsSeededAndKeepsTheRate(t *testing.T) {
	a := schedule(4000, 50, 0.5, ArrivalPoisson, 7)
	b := schedule(4000, 50, 0.5, ArrivalPoisson, 7)
	for i := range a {
		if a[i] != b[i] || (i > 0 && a[i] < a[i-1]) {
			t.Fatalf("offset %d: %v then %v (other run %v)", i, a[i-1], a[i], b[i])
		}
	}
	// 4000 arrivals at 50/s simulated, scaled by 0.5: about 40 s of wall time.
	if got := a[len(a)-1].Seconds(); math.Abs(got-40) > 3 {
		t.Errorf("last Poisson arrival at %.1fs, want about 40s", got)
	}
	u := schedule(3, 4, 0.5, ArrivalUniform, 7)
	if u[1] != 125*time.Millisecond || u[2] != 250*time.Millisecond {
		t.Errorf("uniform offsets %v", u)
	}
	if z := schedule(3, 4, 0, ArrivalPoisson, 7); z[2] != 0 {
		t.Errorf("time scale 0 should release everything at once: %v", z)
	}
}

func TestReplaySendsATurnOnlyAfterThePreviousOneCompleted(t *testing.T) {
	var mu sync.Mutex
	var events []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Path
		mu.Lock()
		events = append(events, "start "+id)
		mu.Unlock()
		if id == "/first" {
			time.Sleep(50 * time.Millisecond)
		}
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write([]byte("data: {}\n\ndata: [DONE]\n\n"))
		mu.Lock()
		events = append(events, "end "+id)
		mu.Unlock()
	}))
	defer srv.Close()
	reqs := []workload.Request{{Path: "/first", After: -1}, {Path: "/second", After: 0}}
	rp := &replay{client: srv.Client(), baseURLs: []string{srv.URL}, reqs: reqs, offsets: make([]time.Duration, 2), maxConc: 4}
	samples, _ := rp.run(context.Background())
	for i, s := range samples {
		if s.err != nil || s.ttft <= 0 || s.e2e < s.ttft {
			t.Errorf("sample %d: %+v", i, s)
		}
	}
	if strings.Join(events, ", ") != "start /first, end /first, start /second, end /second" {
		t.Errorf("events: %v", events)
	}
}

func TestReplayCountsCutStreamsAndBadStatusesAsErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad" {
			http.Error(w, "no", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("data: {}\n\n")) // no [DONE]
	}))
	defer srv.Close()
	reqs := []workload.Request{{Path: "/bad", After: -1}, {Path: "/cut", After: -1}}
	rp := &replay{client: srv.Client(), baseURLs: []string{srv.URL}, reqs: reqs, offsets: make([]time.Duration, 2), maxConc: 1}
	samples, _ := rp.run(context.Background())
	if samples[0].err == nil || !strings.Contains(samples[0].err.Error(), "503") || samples[1].err == nil {
		t.Errorf("errors: %v, %v", samples[0].err, samples[1].err)
	}
}

func TestProgressWritesPlainLinesOffATerminal(t *testing.T) {
	var out lockedBuffer
	p := newProgressWriter(&out)
	p.every = time.Millisecond
	var done atomic64
	l := p.start("wl pol", 8, &done.v)
	done.v.Add(2) // a quarter: a line is due at the next tick
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "/8 requests\n") && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	done.v.Add(6)
	l.finish("ok")
	s := out.String()
	if strings.Contains(s, "\r") || !strings.HasSuffix(s, "wl pol ok\n") || !strings.Contains(s, "    2/8 requests\n") {
		t.Errorf("progress output: %q", s)
	}
}

func TestRoutingWithReplicasRunsOneRouterBeside(t *testing.T) {
	var out bytes.Buffer
	o := tinyRouting(t, &out, "cache_aware")
	o.Replicas = []int{3}
	o = o.withDefaults()
	tb, err := o.testbed(workload.NameSharedPrefix)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tb.compare(context.Background(), o.Policies, o.Replicas, newProgressWriter(&out))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 || res[1].Replicas != 1 || res[2].Replicas != 3 {
		t.Fatalf("want the oracle, one router, three replicas; got %+v", res)
	}
	for _, r := range res[1:] {
		checkRun(t, r, tb)
	}
	if res[2].SingleHitRate != res[1].HitRate() || res[2].Label() != "cache_aware x3 replicas" {
		t.Errorf("replicas row: single-router hit rate %v (want %v), label %q", res[2].SingleHitRate, res[1].HitRate(), res[2].Label())
	}
	var table bytes.Buffer
	writeTable(&table, res, true)
	if !strings.Contains(table.String(), "of 1 router") || !strings.Contains(table.String(), "cache_aware x3 replicas") {
		t.Errorf("table:\n%s", table.String())
	}
}

func TestReplicaCountsAlwaysStartWithOneRouter(t *testing.T) {
	for _, tc := range []struct{ in, want []int }{
		{nil, []int{1}}, {[]int{3}, []int{1, 3}}, {[]int{8, 3, 1, 3}, []int{1, 3, 8}},
	} {
		if got := replicaCounts(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("replicaCounts(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	var out bytes.Buffer
	o := tinyRouting(t, &out, "random")
	o.Replicas = []int{0}
	if err := Routing(context.Background(), o); err == nil || !strings.Contains(err.Error(), "replicas") {
		t.Errorf("replicas 0: %v", err)
	}
}

// TestRoutersReadLoadOnSimulatedTime: the routers under test read their
// workers' load at the default interval of simulated time, so replicas
// see loads as fresh as a deployment with the same settings would.
func TestRoutersReadLoadOnSimulatedTime(t *testing.T) {
	def := config.Defaults().LoadPollIntervalMs
	if got := routerConfig(nil, "cache_aware", 0.5).LoadPollIntervalMs; got != def/2 {
		t.Errorf("time scale 0.5: poll every %d ms of wall time, want %d", got, def/2)
	}
	for _, tc := range []struct {
		ms        int
		timeScale float64
		want      int
	}{
		{200, 1, 200}, {200, 0.25, 50}, {200, 2, 400},
		{200, 0, 200},    // no simulated time: as configured
		{0, 0.5, 0},      // polling off stays off
		{200, 0.001, 1},  // never below a millisecond
		{100, 0.333, 33}, // rounded
	} {
		if got := pollIntervalMs(tc.ms, tc.timeScale); got != tc.want {
			t.Errorf("pollIntervalMs(%d, %g) = %d, want %d", tc.ms, tc.timeScale, got, tc.want)
		}
	}
}

// TestCodingChatResendsTheEngineAnswers: the oracle of coding-chat finds
// each turn's previous answer cached, which only the engine's own answer,
// resent as it came, can give.
func TestCodingChatResendsTheEngineAnswers(t *testing.T) {
	var out bytes.Buffer
	o := tinyRouting(t, &out, "cache_aware").withDefaults()
	tb, err := o.testbed(workload.NameCodingChat)
	if err != nil {
		t.Fatal(err)
	}
	engine, err := tb.oracleHitRate()
	if err != nil {
		t.Fatal(err)
	}
	for i := range tb.wl.Requests {
		tb.wl.Requests[i].Turn = nil // the generator's answers instead
	}
	written, err := tb.oracleHitRate()
	if err != nil {
		t.Fatal(err)
	}
	if engine < written+0.1 {
		t.Errorf("oracle hit rate %.2f resending the engine's answers, %.2f with the generator's; want clearly more", engine, written)
	}
}

// lockedBuffer is a bytes.Buffer written by one goroutine and read by another.
type lockedBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestRepeatedRunsShowTheMedianRunWhole: of three runs, a row is the run
// with the median hit rate, all its figures from that run, and every
// run's figures are listed in run order; oracle rows get no list.
func TestRepeatedRunsShowTheMedianRunWhole(t *testing.T) {
	run := func(cached int64, p99 time.Duration, perWorker ...int64) []RunResult {
		return []RunResult{
			{Workload: "w", Policy: PolicyOracle, OracleHitRate: 0.8},
			{Workload: "w", Policy: "cache_aware", Replicas: 8, PromptTokens: 100, CachedTokens: cached,
				TTFT: []time.Duration{p99}, PerWorker: perWorker, OracleHitRate: 0.8, SingleHitRate: 0.8},
		}
	}
	got := medianRuns([][]RunResult{run(72, 90*time.Millisecond, 5, 5), run(40, 300*time.Millisecond, 9, 1), run(60, 120*time.Millisecond, 6, 4)})
	if len(got) != 2 || got[0].Repeats != nil {
		t.Fatalf("rows %+v: want the oracle without repeats, then one merged row", got)
	}
	row := got[1]
	if row.HitRate() != 0.6 || row.TTFTQuantile(0.99) != 120*time.Millisecond || row.Balance() != 1.2 {
		t.Errorf("merged row: hit rate %v, p99 %v, max/mean %v; want the median run's 0.6, 120ms, 1.2",
			row.HitRate(), row.TTFTQuantile(0.99), row.Balance())
	}
	if len(row.Repeats) != 3 || math.Abs(row.Repeats[0].OfOracle-0.9) > 1e-9 || row.Repeats[1].TTFTP99 != 300*time.Millisecond || row.Repeats[2].Balance != 1.2 {
		t.Errorf("repeats %+v: want every run's figures in run order", row.Repeats)
	}
	var table bytes.Buffer
	writeTable(&table, got, true)
	want := "- w cache_aware x8 replicas: of oracle 90, 50, 75%; of 1 router 90, 50, 75%; max/mean 1.00, 1.80, 1.20; TTFT p99 90 ms, 300 ms, 120 ms"
	if !strings.Contains(table.String(), "median hit rate of 3") || !strings.Contains(table.String(), want) {
		t.Errorf("table lacks the runs' list %q:\n%s", want, table.String())
	}
	if single := medianRuns([][]RunResult{run(72, time.Millisecond)}); single[1].Repeats != nil {
		t.Error("one run: no repeats to list")
	}
}

func TestRoutingRepeatsRuns(t *testing.T) {
	var out bytes.Buffer
	o := tinyRouting(t, &out, "cache_aware")
	o.Workloads, o.Runs = []string{workload.NameMultiTurn}, 2
	if err := Routing(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "multi-turn     cache_aware "); n < 2 || !strings.Contains(out.String(), "- multi-turn cache_aware: of oracle") {
		t.Errorf("want two runs and their list:\n%s", out.String())
	}
	md, err := os.ReadFile(filepath.Join(o.OutDir, "routing.md"))
	if err != nil || !strings.Contains(string(md), "median hit rate of 2") {
		t.Errorf("routing.md: %v\n%s", err, md)
	}
	o.Runs = -1
	if err := Routing(context.Background(), o); err == nil || !strings.Contains(err.Error(), "runs") {
		t.Errorf("runs -1: %v", err)
	}
}
