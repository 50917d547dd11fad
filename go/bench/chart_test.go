package bench

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

type atomic64 struct{ v atomic.Int64 }

func fakeResults() []RunResult {
	var res []RunResult
	for w, wl := range []string{"shared-prefix", "multi-turn"} {
		res = append(res, RunResult{Workload: wl, Policy: PolicyOracle, OracleHitRate: 0.8})
		for p, pol := range []string{"random", "round_robin", "cache_aware"} {
			res = append(res, RunResult{
				Workload: wl, Policy: pol, Requests: 10, OracleHitRate: 0.8,
				PromptTokens: 1000, CachedTokens: int64(100 * (p + w + 1)), OutputTokens: 500,
				TTFT:       []time.Duration{time.Duration(p+1) * 10 * time.Millisecond, time.Second},
				E2E:        []time.Duration{time.Second, 2 * time.Second},
				EngineTTFT: 500 * time.Millisecond,
				Elapsed:    4 * time.Second,
				PerWorker:  []int64{3, 3, 4},
			})
		}
	}
	return res
}

// checkSVG parses svg as XML and counts its bars.
func checkSVG(t *testing.T, svg []byte, wantBars int) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(svg))
	bars, texts := 0, 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			for _, a := range se.Attr {
				if se.Name.Local == "rect" && a.Name.Local == "class" && a.Value == "bar" {
					bars++
				}
			}
			if se.Name.Local == "text" {
				texts++
			}
		}
	}
	if bars != wantBars || texts == 0 {
		t.Errorf("%d bars and %d texts, want %d bars", bars, texts, wantBars)
	}
}

func TestChartHasOneBarPerPolicyAndWorkloadInEachPanel(t *testing.T) {
	svg := chartSVG("Routing <quality> & co", fakeResults())
	checkSVG(t, svg, 4*2*3)
	for _, want := range []string{"Routing &lt;quality&gt; &amp; co", "oracle 80", "cache_aware", "multi-turn", "Cache hit rate"} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
}

func TestChartSkipsMissingRuns(t *testing.T) {
	res := fakeResults()
	res = res[:len(res)-1] // multi-turn has no cache_aware run
	svg := chartSVG("t", res)
	checkSVG(t, svg, 4*(2*3-1))
	if !strings.Contains(string(svg), "n/a") {
		t.Error("a missing run is not marked n/a")
	}
}

func TestNiceAxisTops(t *testing.T) {
	cases := []struct{ v, top, step float64 }{
		{100, 100, 20}, {1.3, 1.5, 0.5}, {333, 400, 100}, {0, 1, 0.25}, {7, 8, 2},
	}
	for _, c := range cases {
		if top, step := niceTop(c.v); math.Abs(top-c.top) > 1e-9 || math.Abs(step-c.step) > 1e-9 {
			t.Errorf("niceTop(%v) = %v, %v; want %v, %v", c.v, top, step, c.top, c.step)
		}
	}
}

func TestTableAndMarkdownShowEveryRun(t *testing.T) {
	res := fakeResults()
	var b bytes.Buffer
	writeTable(&b, res, true)
	md := string(markdownReport("T", "t.svg", []string{"setup line"}, res, true))
	if got := strings.Count(b.String(), "cache_aware"); got != 2 {
		t.Errorf("table rows for cache_aware: %d\n%s", got, b.String())
	}
	if !strings.Contains(b.String(), "25%") || !strings.Contains(b.String(), "1.20") {
		t.Errorf("table lacks the hit rate vs oracle or the balance:\n%s", b.String())
	}
	if strings.Count(md, "\n| ") != 2+len(res) || !strings.Contains(md, "- setup line") || strings.Contains(md, "Note:") {
		t.Errorf("markdown:\n%s", md)
	}
	res[3].EngineTTFT = 0
	if note := overloadNote(res); !strings.Contains(note, "shared-prefix/cache_aware +515 ms") || strings.Contains(note, "random") {
		t.Errorf("overload note: %q", note)
	}
}
