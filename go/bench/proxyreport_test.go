package bench

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseWrkReadsTheScriptsResultLine(t *testing.T) {
	out := "Running 3s test @ http://x/generate\n  1 threads and 4 connections\nRESULT 900 3000000 7 1500 9000\n"
	r, err := parseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 900 || r.Errors != 7 || r.Elapsed != 3*time.Second || r.P50 != 1500*time.Microsecond || r.P99 != 9*time.Millisecond {
		t.Fatalf("parsed %+v", r.Result)
	}
	if _, err := parseWrk("wrk: connection refused\n"); err == nil {
		t.Fatal("output without a result line parsed")
	}
}

func sampleRun(rps float64, cpu, other time.Duration) proxyRun {
	r := proxyRun{cpu: cpu, other: other}
	r.Elapsed, r.Requests = time.Second, int(rps)
	return r
}

func TestFiguresAreMediansAndSayWhenNotToTrustThem(t *testing.T) {
	res := results{}
	for _, r := range []proxyRun{sampleRun(1000, 300*time.Millisecond, 0), sampleRun(1100, 330*time.Millisecond, 0), sampleRun(1050, 315*time.Millisecond, 0)} {
		res.add("s", "ours", r)
	}
	f, _ := res.figures("s", "ours")
	if f.rps != 1050 || f.cpu < 29.99 || f.cpu > 30.01 || f.trust() != "ok" {
		t.Fatalf("figures %+v, trust %q", f, f.trust())
	}
	res.add("busy", "ours", sampleRun(1000, 300*time.Millisecond, 500*time.Millisecond)) // half a core used by others
	res.add("busy", "ours", sampleRun(1500, 300*time.Millisecond, 0))
	f, _ = res.figures("busy", "ours")
	if got := f.trust(); got != "busy 1/2, spread" {
		t.Fatalf("trust %q, want busy 1/2, spread", got)
	}
}

func TestProcessCPUOfThisProcess(t *testing.T) {
	deadline := time.Now().Add(200 * time.Millisecond)
	for time.Now().Before(deadline) { // burn some CPU so the figure is above zero
	}
	d, err := processCPU(os.Getpid())
	if err != nil || d <= 0 {
		t.Fatalf("processCPU = %v, %v", d, err)
	}
	if _, err := machineBusy(); err != nil {
		t.Fatal(err)
	}
	if f, err := statFields(os.Getpid()); err != nil || !strings.ContainsAny(f[0], "RSD") {
		t.Fatalf("state field %q, %v", f, err)
	}
}

func TestOnlySelectsScenariosByName(t *testing.T) {
	only, err := ParseOnly("small, stream")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sc := range (Options{Only: only}).selected() {
		names = append(names, sc.name)
	}
	if got := strings.Join(names, "|"); got != "small /generate, c=32|small /generate, c=1|stream chat 64 events, c=8" {
		t.Fatalf("selected %s", got)
	}
	if o := (Options{Only: only}); o.Selected("pd") || !o.Selected("stream") {
		t.Fatal("Selected disagrees with -only")
	}
	if all, _ := ParseOnly(""); len((Options{Only: all}).selected()) != len(scenarios()) || !(Options{Only: all}).Selected("pd") {
		t.Fatal("an empty list must select everything")
	}
	if _, err := ParseOnly("small,nope"); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("unknown name: %v", err)
	}
}

// With a baseline binary the summary compares ours with it, and each
// router with its own round_robin run where nginx has no equivalent.
func TestSummaryComparesOursWithTheBaseline(t *testing.T) {
	res := results{}
	for range 2 {
		res.add(smallC32, "nginx", sampleRun(2000, 200*time.Millisecond, 0))
		res.add(smallC32, "ours", sampleRun(1000, 300*time.Millisecond, 0))
		res.add(smallC32, "base", sampleRun(800, 400*time.Millisecond, 0))
		res.add(bigRR, "ours", sampleRun(100, 100*time.Millisecond, 0))
		res.add(bigRR, "base", sampleRun(100, 200*time.Millisecond, 0))
		res.add(bigCache, "ours", sampleRun(100, 150*time.Millisecond, 0))
		res.add(bigCache, "base", sampleRun(100, 200*time.Millisecond, 0))
	}
	var out strings.Builder
	scs := scenarios()
	res.summary(&out, []scenario{scs[0], scs[3], scs[4]}, []string{"direct", "nginx", "ours", "base"})
	for _, want := range []string{
		"3.00x nginx", "5.00x nginx", // ours, base against nginx (CPU)
		"1.50x rr", "1.00x rr", // cache_aware against each one's round_robin
		"small /generate, c=32        CPU-s/100k   50.0 ->   30.0 (0.60x)   req/s     800 ->    1000 (1.25x)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
}
