package bench

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"
)

// Thresholds of a trustworthy measurement.
const (
	// busyShare: a run during which processes other than the proxy, wrk
	// and the benchmark (the fake workers) used more than this share of
	// one core ran on a busy machine.
	busyShare = 0.15
	// maxSpread: a figure whose best round is more than this factor above
	// its worst varies too much to trust.
	maxSpread = 1.20
)

// targets are what the scenarios are sent to: the first worker directly,
// nginx (nil when it is not installed), one router per policy, and with
// a baseline binary one of those per policy too.
type targets struct {
	direct  string
	nginx   *proc
	routers map[string]*proc
	base    map[string]*proc // nil without a baseline
}

// startTargets starts nginx and the routers for the policies scs use.
func startTargets(ctx context.Context, o Options, dir string, workers []string, scs []scenario) (*targets, error) {
	t := &targets{direct: workers[0], routers: map[string]*proc{}}
	ng, err := startNginx(ctx, dir, workers)
	if err != nil {
		fmt.Fprintf(o.Out, "nginx not measured: %v (apt-get install nginx-light)\n", err)
	}
	t.nginx = ng
	if o.BaselineBin != "" {
		t.base = map[string]*proc{}
	}
	for _, sc := range scs {
		if t.routers[sc.policy] != nil {
			continue
		}
		p, err := startRouterProc(ctx, o.RouterBin, dir, "router-"+sc.policy, sc.policy, workers)
		if err != nil {
			return t, err
		}
		t.routers[sc.policy] = p
		if t.base != nil {
			if p, err = startRouterProc(ctx, o.BaselineBin, dir, "base-"+sc.policy, sc.policy, workers); err != nil {
				return t, err
			}
			t.base[sc.policy] = p
		}
	}
	return t, nil
}

func (t *targets) stop() {
	t.nginx.stop()
	for _, p := range t.routers {
		p.stop()
	}
	for _, p := range t.base {
		p.stop()
	}
}

// names are the targets in table order.
func (t *targets) names() []string {
	if t.base != nil {
		return []string{"direct", "nginx", "ours", "base"}
	}
	return []string{"direct", "nginx", "ours"}
}

// target is one destination of a run; p is nil for direct.
type target struct {
	name string
	url  string
	p    *proc
}

// order lists sc's targets, reversed in odd rounds, so neither side always
// runs on the warmer (or cooler) machine.
func (t *targets) order(sc scenario, round int) []target {
	var ts []target
	if sc.compareTo == "" {
		ts = append(ts, target{"direct", t.direct, nil})
		if t.nginx != nil {
			ts = append(ts, target{"nginx", t.nginx.url, t.nginx})
		}
	}
	ours := t.routers[sc.policy]
	ts = append(ts, target{"ours", ours.url, ours})
	if base := t.base[sc.policy]; base != nil {
		ts = append(ts, target{"base", base.url, base})
	}
	if round%2 == 1 {
		slices.Reverse(ts)
	}
	return ts
}

// round measures sc once on every target and records and prints the runs.
func (t *targets) round(ctx context.Context, o Options, dir string, sc scenario, r int, res results) error {
	if err := writeBodies(dir, sc.bodies); err != nil {
		return err
	}
	for _, tg := range t.order(sc, r) {
		warm(tg.url, sc)
		s, err := measureRun(ctx, o, dir, sc, tg)
		if err != nil {
			return fmt.Errorf("%s via %s: %w", sc.name, tg.name, err)
		}
		res.add(sc.name, tg.name, s)
		fmt.Fprintf(o.Out, "%-28s %-7s %5d %9.0f %9s %9s %9s %8.2f %s\n", sc.name, tg.name, r+1, s.RPS(),
			round(s.P50), round(s.P99), s.cpuText(tg.p != nil), s.otherCores(), s.busyText())
	}
	return nil
}

// proxyRun is one wrk run against one target.
type proxyRun struct {
	wrkRun
	cpu   time.Duration // the target's CPU (0 for direct)
	other time.Duration // CPU of every other process of the machine
}

func measureRun(ctx context.Context, o Options, dir string, sc scenario, tg target) (proxyRun, error) {
	busy0, _ := machineBusy()
	self0, _ := processCPU(os.Getpid())
	var cpu0 time.Duration
	if tg.p != nil {
		cpu0 = tg.p.cpu()
	}
	w, err := runWrk(ctx, dir, tg.url+sc.path, sc.conns, o.Duration)
	if err != nil {
		return proxyRun{}, err
	}
	busy1, _ := machineBusy()
	self1, _ := processCPU(os.Getpid())
	s := proxyRun{wrkRun: w}
	if tg.p != nil {
		s.cpu = tg.p.cpu() - cpu0
	}
	s.other = max(0, busy1-busy0-s.cpu-w.CPU-(self1-self0))
	if w.Requests == 0 {
		return s, fmt.Errorf("no request succeeded (%d errors)", w.Errors)
	}
	return s, nil
}

// cpuPer100k is the target's CPU-seconds per 100k requests.
func (s proxyRun) cpuPer100k() float64 { return s.cpu.Seconds() / float64(s.Requests) * 1e5 }

func (s proxyRun) cpuText(measured bool) string {
	if !measured {
		return "-"
	}
	return fmt.Sprintf("%.1f", s.cpuPer100k())
}

// otherCores is the CPU other processes used, in cores over the run.
func (s proxyRun) otherCores() float64 { return s.other.Seconds() / s.Elapsed.Seconds() }

func (s proxyRun) busy() bool { return s.otherCores() > busyShare }

func (s proxyRun) busyText() string {
	if s.busy() {
		return "busy"
	}
	return ""
}
