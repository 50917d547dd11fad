package bench

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// chart is a figure of grouped bar panels sharing groups (workloads) and
// series (policies).
type chart struct {
	title, subtitle string
	groups          []string
	series          []string
	panels          []panel
}

// panel is one bar chart: values[group][series], NaN where missing.
type panel struct {
	title  string
	note   string // "higher is better", ...
	values [][]float64
	// ref is a per-group reference (the oracle) drawn as a dashed line;
	// NaN for none. refLabel names it.
	ref      []float64
	refLabel string
	format   func(float64) string // value labels and ticks
	minTop   float64              // the y axis reaches at least this
}

// resultsChart turns results into the routing figure: hit rate (with the
// oracle), TTFT p99, TTFT mean and the load spread.
func resultsChart(title string, res []RunResult) chart {
	c := chart{title: title, subtitle: "simulated SGLang workers behind the router; each policy starts on a cold cluster"}
	oracle := map[string]float64{}
	for _, r := range res {
		if !slices.Contains(c.groups, r.Workload) {
			c.groups = append(c.groups, r.Workload)
		}
		if r.Policy == PolicyOracle {
			oracle[r.Workload] = r.OracleHitRate
		} else if !slices.Contains(c.series, r.Label()) {
			c.series = append(c.series, r.Label())
		}
	}
	metric := func(f func(RunResult) float64) [][]float64 {
		v := make([][]float64, len(c.groups))
		for g, name := range c.groups {
			v[g] = make([]float64, len(c.series))
			for s, pol := range c.series {
				v[g][s] = math.NaN()
				for _, r := range res {
					if r.Workload == name && r.Label() == pol {
						v[g][s] = f(r)
					}
				}
			}
		}
		return v
	}
	refs := make([]float64, len(c.groups))
	for g, name := range c.groups {
		refs[g] = math.NaN()
		if o, ok := oracle[name]; ok {
			refs[g] = 100 * o
		}
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	c.panels = []panel{
		{title: "Cache hit rate (%)", note: "higher is better; dashed: oracle", values: metric(func(r RunResult) float64 { return 100 * r.HitRate() }),
			ref: refs, refLabel: "oracle", format: percent, minTop: 100},
		{title: "TTFT p99 (ms)", note: "lower is better", values: metric(func(r RunResult) float64 { return ms(r.TTFTQuantile(0.99)) }), format: compact},
		{title: "TTFT mean (ms)", note: "lower is better", values: metric(func(r RunResult) float64 { return ms(r.TTFTMean()) }), format: compact},
		{title: "Busiest worker's extra requests (%)", note: "over the mean; lower is better, 0 = even spread",
			values: metric(func(r RunResult) float64 { return 100 * (r.Balance() - 1) }), format: percent, minTop: 10},
	}
	return c
}

// percent formats a percentage without decimals.
func percent(v float64) string { return fmt.Sprintf("%.0f", v) }

// compact formats a value in at most four characters where possible.
func compact(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 10000:
		return fmt.Sprintf("%.0fk", v/1000)
	case v >= 1000:
		return fmt.Sprintf("%.1fk", v/1000)
	case v >= 10:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// niceTop returns an axis top >= v and its tick step, on a 1-2-2.5-5 grid.
func niceTop(v float64) (top, step float64) {
	if v <= 0 || math.IsNaN(v) {
		return 1, 0.25
	}
	raw := v / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if step = m * mag; step >= raw {
			break
		}
	}
	return math.Ceil(v/step-1e-9) * step, step
}
