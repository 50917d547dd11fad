package discovery

import (
	"fmt"
	"testing"
	"time"
)

// wait is how long a change may take to reach the sink in these tests: far
// above the aim (well under a second) so a busy CI machine does not flake.
const wait = 10 * time.Second

var inference = map[string]string{"app": "sglang-worker", "role": "inference"}

func url(ip string) string { return "http://" + ip + ":8000" }

func TestPodsJoinWhenReadyAndLeaveEveryWay(t *testing.T) {
	e := newEnv(t)
	must(t, e.kube.StartPod(e.ctx, e.ns, "before", "127.0.1.1", inference, nil))
	sink, rec := newSink(), &counter{}
	log, logs := observed()
	d := New(fastRetry(Config{Selector: inference, Namespace: e.ns, Port: 8000, Kubeconfig: e.kubeconfig}), sink, log, rec)
	defer run(d)()
	waitWorkers(t, sink, wait, "regular "+url("127.0.1.1")) // found by the initial list

	steps := []struct {
		name   string
		change func() error
		want   []string
	}{
		{"pending pod is not a worker", func() error {
			return e.kube.CreatePod(e.ctx, e.ns, "p", inference, nil)
		}, []string{url("127.0.1.1")}},
		{"ready pod joins", func() error {
			return e.kube.SetStatus(e.ctx, e.ns, "p", "127.0.1.2", true)
		}, []string{url("127.0.1.1"), url("127.0.1.2")}},
		{"other pods never join", func() error {
			must(t, e.kube.StartPod(e.ctx, e.ns, "other-app", "127.0.1.3", map[string]string{"app": "other", "role": "inference"}, nil))
			must(t, e.kube.CreatePod(e.ctx, e.ns, "unready", inference, nil))
			return e.kube.SetStatus(e.ctx, e.ns, "unready", "127.0.1.4", false)
		}, []string{url("127.0.1.1"), url("127.0.1.2")}},
		{"NotReady pod leaves", func() error {
			return e.kube.SetStatus(e.ctx, e.ns, "p", "127.0.1.2", false)
		}, []string{url("127.0.1.1")}},
		{"ready again rejoins", func() error {
			return e.kube.SetStatus(e.ctx, e.ns, "p", "127.0.1.2", true)
		}, []string{url("127.0.1.1"), url("127.0.1.2")}},
		{"new IP replaces the old URL", func() error {
			return e.kube.SetStatus(e.ctx, e.ns, "p", "127.0.1.5", true)
		}, []string{url("127.0.1.1"), url("127.0.1.5")}},
		{"relabelled pod leaves", func() error {
			return e.kube.Relabel(e.ctx, e.ns, "p", map[string]string{"app": "sglang-worker"})
		}, []string{url("127.0.1.1")}},
		{"relabelled back rejoins", func() error {
			return e.kube.Relabel(e.ctx, e.ns, "p", inference)
		}, []string{url("127.0.1.1"), url("127.0.1.5")}},
		{"graceful delete leaves at once (deletionTimestamp)", func() error {
			return e.kube.Delete(e.ctx, e.ns, "p", true)
		}, []string{url("127.0.1.1")}},
		{"immediate delete leaves", func() error {
			return e.kube.Delete(e.ctx, e.ns, "before", false)
		}, nil},
	}
	for _, s := range steps {
		must(t, s.change())
		want := make([]string, len(s.want))
		for i, u := range s.want {
			want[i] = "regular " + u
		}
		t.Logf("step %q", s.name)
		waitWorkers(t, sink, wait, want...)
	}
	for _, u := range []string{url("127.0.1.3"), url("127.0.1.4")} {
		if _, ok := sink.eventAt(u, true); ok {
			t.Errorf("%s was added", u)
		}
	}
	// before, p, p again, p at its new IP, p after relabelling back.
	if a, r := rec.added.Load(), rec.removed.Load(); a != 5 || r != 5 {
		t.Errorf("metrics: added %d removed %d, want 5 and 5", a, r)
	}
	if u := rec.updates.Load(); u < 10 {
		t.Errorf("metrics: %d pod updates, want at least one per change (10)", u)
	}
	if w := warnings(logs); len(w) > 0 {
		t.Errorf("unexpected warnings: %q", w)
	}
}

func TestReadyAndDeleteLatency(t *testing.T) {
	e := newEnv(t)
	sink := newSink()
	d := New(fastRetry(Config{Selector: inference, Namespace: e.ns, Port: 8000, Kubeconfig: e.kubeconfig}), sink, nil, nil)
	defer run(d)()
	waitWorkers(t, sink, wait)
	const n = 10
	var join, leave []time.Duration
	for i := 0; i < n; i++ {
		name, ip := fmt.Sprintf("w%d", i), fmt.Sprintf("127.0.5.%d", i+1)
		must(t, e.kube.CreatePod(e.ctx, e.ns, name, inference, nil))
		join = append(join, timeTo(t, sink, url(ip), true, func() error { return e.kube.SetStatus(e.ctx, e.ns, name, ip, true) }))
	}
	for i := 0; i < n; i++ {
		name, ip := fmt.Sprintf("w%d", i), fmt.Sprintf("127.0.5.%d", i+1)
		leave = append(leave, timeTo(t, sink, url(ip), false, func() error { return e.kube.Delete(e.ctx, e.ns, name, i%2 == 0) }))
	}
	t.Logf("pod Ready -> sink has it: %s", durations(join))
	t.Logf("pod deleted -> sink dropped it: %s", durations(leave))
}

// timeTo runs change and measures from its start until the sink added
// (add) or removed url.
func timeTo(t *testing.T, sink *fakeSink, u string, add bool, change func() error) time.Duration {
	t.Helper()
	start := time.Now()
	must(t, change())
	eventually(t, wait, func() string { return fmt.Sprintf("%s add=%v never reached the sink", u, add) }, func() bool {
		at, ok := sink.eventAt(u, add)
		return ok && !at.Before(start)
	})
	at, _ := sink.eventAt(u, add)
	return at.Sub(start)
}
