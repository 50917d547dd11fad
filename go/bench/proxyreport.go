package bench

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// results are the samples of every (scenario, target), in round order.
type results map[[2]string][]proxyRun

func (r results) add(scenario, target string, s proxyRun) {
	k := [2]string{scenario, target}
	r[k] = append(r[k], s)
}

// figures are the medians over the rounds of one (scenario, target).
type figures struct {
	rps, cpu   float64
	p50, p99   time.Duration
	busy, runs int
	spread     bool
	measured   bool // the target's CPU was read (not direct)
}

func (r results) figures(scenario, target string) (figures, bool) {
	ss := r[[2]string{scenario, target}]
	if len(ss) == 0 {
		return figures{}, false
	}
	f := figures{runs: len(ss), measured: target != "direct"}
	var rps, cpu []float64
	var p50, p99 []time.Duration
	for _, s := range ss {
		rps, cpu = append(rps, s.RPS()), append(cpu, s.cpuPer100k())
		p50, p99 = append(p50, s.P50), append(p99, s.P99)
		if s.busy() {
			f.busy++
		}
	}
	f.rps, f.cpu, f.p50, f.p99 = median(rps), median(cpu), median(p50), median(p99)
	f.spread = tooSpread(rps) || (f.measured && tooSpread(cpu))
	return f, true
}

func median[T float64 | time.Duration](v []T) T {
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func tooSpread(v []float64) bool {
	lo, hi := slices.Min(v), slices.Max(v)
	return lo <= 0 || hi/lo > maxSpread
}

// summary prints the median of every figure, ours against nginx (or, for
// a scenario nginx cannot do, against the scenario it names), and whether
// the figures can be trusted.
func (r results) summary(w io.Writer, scs []scenario, names []string) {
	fmt.Fprintf(w, "\nsummary (medians over the rounds)\n\n")
	fmt.Fprintf(w, "%-28s %-7s %9s %9s %9s %10s %12s %12s  %s\n", "scenario", "target", "req/s", "p50", "p99",
		"CPU-s/100k", "req/s ratio", "CPU ratio", "trust")
	for _, sc := range scs {
		for _, name := range names {
			base, baseName := r.baseline(sc, name)
			f, ok := r.figures(sc.name, name)
			if !ok {
				continue
			}
			cpu, rpsRatio, cpuRatio := "-", "", ""
			if f.measured {
				cpu = fmt.Sprintf("%.1f", f.cpu)
			}
			if (name == "ours" || name == "base") && base.runs > 0 {
				cpuRatio = fmt.Sprintf("%.2fx %s", f.cpu/base.cpu, baseName)
				if sc.compareTo == "" {
					rpsRatio = fmt.Sprintf("%.2fx %s", f.rps/base.rps, baseName)
				}
			}
			fmt.Fprintf(w, "%-28s %-7s %9.0f %9s %9s %10s %12s %12s  %s\n", sc.name, name, f.rps, round(f.p50), round(f.p99),
				cpu, rpsRatio, cpuRatio, f.trust())
		}
	}
	r.againstBase(w, scs)
}

// againstBase prints ours against the baseline binary's router, when one
// was measured.
func (r results) againstBase(w io.Writer, scs []scenario) {
	header := false
	for _, sc := range scs {
		ours, ok1 := r.figures(sc.name, "ours")
		base, ok2 := r.figures(sc.name, "base")
		if !ok1 || !ok2 {
			continue
		}
		if !header {
			fmt.Fprintf(w, "\nours against base (the -baseline binary), medians\n\n")
			header = true
		}
		fmt.Fprintf(w, "%-28s CPU-s/100k %6.1f -> %6.1f (%.2fx)   req/s %7.0f -> %7.0f (%.2fx)\n", sc.name,
			base.cpu, ours.cpu, ours.cpu/base.cpu, base.rps, ours.rps, ours.rps/base.rps)
	}
}

// baseline is what a router target is compared with in sc: nginx, or its
// own run of the scenario sc names.
func (r results) baseline(sc scenario, target string) (figures, string) {
	if sc.compareTo != "" {
		f, _ := r.figures(sc.compareTo, target)
		return f, "rr"
	}
	f, _ := r.figures(sc.name, "nginx")
	return f, "nginx"
}

func (f figures) trust() string {
	var why []string
	if f.busy > 0 {
		why = append(why, fmt.Sprintf("busy %d/%d", f.busy, f.runs))
	}
	if f.spread {
		why = append(why, "spread")
	}
	if f.runs < 2 {
		why = append(why, "one round")
	}
	if len(why) == 0 {
		return "ok"
	}
	return strings.Join(why, ", ")
}

// report prints one load run as a table row (the PD benchmark's table).
func report(w io.Writer, name, path string, r Result) {
	fmt.Fprintf(w, "%-24s %-18s %10.0f %10s %10s %7d\n", name, path, r.RPS(), round(r.P50), round(r.P99), r.Errors)
}

func round(d time.Duration) time.Duration {
	if d < 0 {
		return -round(-d)
	}
	return d.Round(time.Microsecond)
}
