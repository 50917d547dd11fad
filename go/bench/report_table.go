package bench

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"
)

// tableColumns are the report's columns after workload and policy.
var tableColumns = []string{"hit rate", "of oracle", "of 1 router", "TTFT p50", "TTFT mean", "engine TTFT", "TTFT p99", "req/s", "out tok/s", "max/mean", "errors"}

// cells renders r's columns; the oracle row has a hit rate only.
func cells(r RunResult) []string {
	if r.Policy == PolicyOracle {
		return []string{pct(r.OracleHitRate), "100%", "", "", "", "", "", "", "", "", ""}
	}
	of, single := "n/a", "n/a"
	if r.OracleHitRate > 0 {
		of = fmt.Sprintf("%.0f%%", 100*r.OfOracle())
	}
	if r.SingleHitRate > 0 {
		single = fmt.Sprintf("%.0f%%", 100*r.OfSingle())
	}
	return []string{
		pct(r.HitRate()), of, single,
		msec(r.TTFTQuantile(0.5)), msec(r.TTFTMean()), msec(r.EngineTTFT), msec(r.TTFTQuantile(0.99)),
		fmt.Sprintf("%.1f", r.RPS()), fmt.Sprintf("%.0f", r.TokPS()),
		fmt.Sprintf("%.2f", r.Balance()), fmt.Sprintf("%d", r.Errors),
	}
}

// writeTable prints the results as an aligned text table, one row per
// run, workloads separated by a blank line.
func writeTable(w io.Writer, res []RunResult, byWorkload bool) {
	head := append([]string{"policy"}, tableColumns...)
	if byWorkload {
		head = append([]string{"workload"}, head...)
	}
	rows := [][]string{head}
	for i, r := range res {
		if byWorkload && i > 0 && r.Workload != res[i-1].Workload {
			rows = append(rows, nil)
		}
		row := append([]string{policyLabel(r)}, cells(r)...)
		if byWorkload {
			row = append([]string{r.Workload}, row...)
		}
		rows = append(rows, row)
	}
	widths := make([]int, len(head))
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], len(c))
		}
	}
	lead := 1 // left-aligned text columns
	if byWorkload {
		lead = 2
	}
	for _, row := range rows {
		var b strings.Builder
		for i, c := range row {
			if i < lead {
				fmt.Fprintf(&b, "%-*s  ", widths[i], c)
			} else {
				fmt.Fprintf(&b, "%*s  ", widths[i], c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	for _, r := range res {
		if r.FirstErr != "" {
			fmt.Fprintf(w, "%s %s: %d errors, first: %s\n", r.Workload, r.Label(), r.Errors, r.FirstErr)
		}
	}
	if note := repeatsNote(res); note != "" {
		fmt.Fprint(w, note)
	}
	if note := overloadNote(res); note != "" {
		fmt.Fprintln(w, note)
	}
}

// repeatsNote lists every run's figures of the rows chosen among repeated
// runs (RunResult.Repeats), a line each, or "".
func repeatsNote(res []RunResult) string {
	var b strings.Builder
	for _, r := range res {
		if len(r.Repeats) == 0 {
			continue
		}
		if b.Len() == 0 {
			fmt.Fprintf(&b, "Each row is the run with the median hit rate of %d; every run, in order:\n", len(r.Repeats))
		}
		var oracle, single, balance, p99 []string
		for _, f := range r.Repeats {
			oracle = append(oracle, fmt.Sprintf("%.0f", 100*f.OfOracle))
			single = append(single, fmt.Sprintf("%.0f", 100*f.OfSingle))
			balance = append(balance, fmt.Sprintf("%.2f", f.Balance))
			p99 = append(p99, msec(f.TTFTP99))
		}
		fmt.Fprintf(&b, "- %s %s: of oracle %s%%; of 1 router %s%%; max/mean %s; TTFT p99 %s\n", r.Workload, r.Label(),
			strings.Join(oracle, ", "), strings.Join(single, ", "), strings.Join(balance, ", "), strings.Join(p99, ", "))
	}
	return b.String()
}

// overloadNote warns when requests spent long outside the engines, or "".
func overloadNote(res []RunResult) string {
	var runs []string
	for _, r := range res {
		if d, ok := r.overloaded(); ok {
			runs = append(runs, fmt.Sprintf("%s/%s +%s", r.Workload, r.Label(), msec(d)))
		}
	}
	if len(runs) == 0 {
		return ""
	}
	return "Note: the time to first token spent outside the engines (router, HTTP, load generator) was large for " +
		strings.Join(runs, ", ") + ". The machine was likely too busy for this time scale, so client-side times are " +
		"inflated; rerun on a quieter machine or with a larger time scale."
}

// markdownReport is the README-ready report: setup, chart, table.
func markdownReport(title, chart string, setups []string, res []RunResult, byWorkload bool) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s\n\n", title)
	fmt.Fprintf(&b, "Generated %s. Times are simulated (wall time divided by the time scale); hit rate is the\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "engines' cached prompt tokens over prompt tokens; max/mean is the busiest worker's request count\n")
	fmt.Fprintf(&b, "over the mean; the oracle is one worker holding every worker's cache, fed the same requests.\n\n")
	for _, s := range setups {
		fmt.Fprintf(&b, "- %s\n", s)
	}
	fmt.Fprintf(&b, "\n![%s](%s)\n\n", title, chart)
	head := append([]string{"policy"}, tableColumns...)
	if byWorkload {
		head = append([]string{"workload"}, head...)
	}
	lead := len(head) - len(tableColumns) // text columns, left-aligned
	fmt.Fprintf(&b, "| %s |\n|%s%s\n", strings.Join(head, " | "), strings.Repeat(" --- |", lead),
		strings.Repeat(" ---: |", len(tableColumns)))
	for _, r := range res {
		row := append([]string{policyLabel(r)}, cells(r)...)
		if byWorkload {
			row = append([]string{r.Workload}, row...)
		}
		fmt.Fprintf(&b, "| %s |\n", strings.Join(row, " | "))
	}
	if note := repeatsNote(res); note != "" {
		fmt.Fprintf(&b, "\n%s", note)
	}
	if note := overloadNote(res); note != "" {
		fmt.Fprintf(&b, "\n%s\n", note)
	}
	return b.Bytes()
}

// policyLabel is how a run is named in reports.
func policyLabel(r RunResult) string {
	if r.Policy == PolicyOracle {
		return "oracle (1 worker, all caches)"
	}
	return r.Label()
}

func pct(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }

// msec formats a duration in milliseconds, with a decimal below 10 ms.
func msec(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	if ms < 10 {
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.0f ms", ms)
}
