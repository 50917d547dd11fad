package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func run(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Main(context.Background(), "test", args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestHelpHasEveryFlagOneDefaultAndExamples(t *testing.T) {
	code, out, _ := run("--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"--worker-urls", "--eviction-interval-secs, --eviction-interval", "sim ", "bench-routing", "examples:",
		"(default: 30000)", "(default: cache_aware)", "(default: x-request-id x-correlation-id x-trace-id request-id)"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Count(line, "(default:") > 1 {
			t.Errorf("two defaults on one line: %q", line)
		}
	}
	if strings.Contains(out, "--disable-metrics") {
		t.Error("internal option shown")
	}
}

func TestBadArgsExitTwoWithTheField(t *testing.T) {
	code, _, errs := run("--cache-threshold", "3")
	if code != 2 || !strings.Contains(errs, "cache_threshold") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	code, _, errs = run("server", "--model-path", "m")
	if code != 2 || !strings.Contains(errs, "pip install sglang-router") {
		t.Fatalf("server: exit %d: %s", code, errs)
	}
}

func TestPrintConfigIsTheEffectiveConfig(t *testing.T) {
	code, out, errs := run("--print-config", "--worker-urls", "http://a:1", "--request-id-headers", "x-mine")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	if m["port"] != 30000.0 || m["policy"] != "cache_aware" || m["request_id_headers"].([]any)[0] != "x-mine" {
		t.Errorf("config %v", m)
	}
}

func TestVersionAndSpec(t *testing.T) {
	if code, out, _ := run("--version"); code != 0 || !strings.Contains(out, "sglang-router test") {
		t.Errorf("version: %d %q", code, out)
	}
	code, out, _ := run("--print-spec")
	var spec struct {
		Flags []struct{ Key string } `json:"flags"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &spec) != nil || len(spec.Flags) < 60 {
		t.Errorf("spec: %d %d flags", code, len(spec.Flags))
	}
}

func TestLaunchRunsTheRouterUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var errb bytes.Buffer
	go func() {
		done <- Main(ctx, "test", []string{"launch", "--port", "0", "--prometheus-port", "0", "--log-level", "error"}, &bytes.Buffer{}, &errb)
	}()
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
}

// bench refuses an unknown -only name and a -baseline that is no file
// before it starts anything.
func TestBenchFlagsAreCheckedFirst(t *testing.T) {
	code, _, errs := run("bench", "-only", "small,bogus")
	if code != 2 || !strings.Contains(errs, `unknown scenario "bogus"`) || !strings.Contains(errs, "cache_aware") {
		t.Fatalf("-only: exit %d: %s", code, errs)
	}
	code, _, errs = run("bench", "-baseline", t.TempDir())
	if code != 2 || !strings.Contains(errs, "not a router binary") {
		t.Fatalf("-baseline: exit %d: %s", code, errs)
	}
}
