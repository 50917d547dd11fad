package discovery

import (
	"fmt"
	"testing"
	"time"

	"github.com/sgl-project/sglang-router-go/go/discovery/k8stest"
)

// TestAPIServerDownAtStartThenRestartedWhilePodsChange gives discovery an
// API server of its own over the shared etcd: it is down when discovery
// starts, and restarted later while pods change through the primary (as
// in a highly available control plane). Each time it comes back the sink
// must hold exactly the live set, and the static worker throughout.
func TestAPIServerDownAtStartThenRestartedWhilePodsChange(t *testing.T) {
	e := newEnv(t)
	a, err := e.c.NewAPIServer()
	must(t, err)
	t.Cleanup(a.Stop)
	kc, err := a.WriteKubeconfig("outage", k8stest.AdminToken)
	must(t, err)
	static := "regular http://127.0.6.100:8000"
	sink, rec := newSink("http://127.0.6.100:8000"), &counter{}
	log, logs := observed()
	d := New(fastRetry(Config{Selector: inference, Namespace: e.ns, Port: 8000, Kubeconfig: kc}), sink, log, rec)
	defer run(d)()

	for i := 1; i <= 4; i++ {
		must(t, e.kube.StartPod(e.ctx, e.ns, fmt.Sprintf("w%d", i), fmt.Sprintf("127.0.6.%d", i), inference, nil))
	}
	eventually(t, wait, func() string { return fmt.Sprintf("warnings %q", warnings(logs)) },
		func() bool { return countWarnings(logs, "cannot reach") == 1 })
	time.Sleep(300 * time.Millisecond) // several retries: still one warning, sink untouched
	if got := sink.list(); !equal(got, []string{static}) {
		t.Fatalf("with no API server the sink changed: %q", got)
	}

	start := time.Now()
	must(t, a.Start(e.ctx))
	up := time.Now()
	waitWorkers(t, sink, wait, static, "regular "+url("127.0.6.1"), "regular "+url("127.0.6.2"),
		"regular "+url("127.0.6.3"), "regular "+url("127.0.6.4"))
	t.Logf("API server started in %s; discovery caught up %s after /readyz",
		up.Sub(start).Round(time.Millisecond), time.Since(up).Round(time.Millisecond))

	stopping := time.Now()
	a.Stop()
	t.Logf("API server stopped in %s", time.Since(stopping).Round(time.Millisecond))
	must(t, e.kube.Delete(e.ctx, e.ns, "w1", false))
	must(t, e.kube.Delete(e.ctx, e.ns, "w2", true))
	must(t, e.kube.SetStatus(e.ctx, e.ns, "w3", "127.0.6.3", false))
	must(t, e.kube.Relabel(e.ctx, e.ns, "w4", map[string]string{"app": "sglang-worker"}))
	must(t, e.kube.StartPod(e.ctx, e.ns, "w5", "127.0.6.5", inference, nil))
	must(t, e.kube.StartPod(e.ctx, e.ns, "w6", "127.0.6.6", inference, nil))
	must(t, e.kube.Delete(e.ctx, e.ns, "w6", false)) // came and went unseen
	eventually(t, wait, func() string { return fmt.Sprintf("warnings %q", warnings(logs)) },
		func() bool { return countWarnings(logs, "cannot reach") == 2 })
	if got := sink.list(); len(got) != 5 {
		t.Fatalf("while disconnected discovery should keep its workers, sink = %q", got)
	}

	start = time.Now()
	must(t, a.Start(e.ctx))
	up = time.Now()
	waitWorkers(t, sink, wait, static, "regular "+url("127.0.6.5"))
	t.Logf("API server restarted in %s; discovery caught up %s after /readyz",
		up.Sub(start).Round(time.Millisecond), time.Since(up).Round(time.Millisecond))
	if _, ok := sink.eventAt(url("127.0.6.6"), true); ok {
		t.Error("a pod deleted while disconnected was added")
	}
	if a, r := rec.added.Load(), rec.removed.Load(); a != 5 || r != 4 {
		t.Errorf("metrics: added %d removed %d, want 5 and 4", a, r)
	}
	if n := logs.FilterMessageSnippet("reconnected").Len(); n != 1 {
		t.Errorf("%d 'reconnected' logs, want 1", n)
	}
	if w := warnings(logs); len(w) != 2 {
		t.Errorf("warnings = %q, want one per outage", w)
	}
}
