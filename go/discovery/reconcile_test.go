package discovery

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestReconcileFollowsThePods(t *testing.T) {
	const static = "http://10.0.0.9:8000"
	sink, rec := newSink(static), &counter{}
	log, logs := observed()
	d := New(regularCfg, sink, log, rec)
	ctx := context.Background()
	steps := []struct {
		name string
		pods []*corev1.Pod
		want []string
	}{
		{"ready pods join; others do not", []*corev1.Pod{
			pod("a", "10.0.0.1", workerLabels), pod("b", "10.0.0.2", workerLabels),
			pod("c", "10.0.0.3", workerLabels, notReady), pod("d", "10.0.0.4", map[string]string{"app": "x"}),
		}, []string{"regular http://10.0.0.1:8000", "regular http://10.0.0.2:8000", "regular " + static}},
		{"not ready leaves, ip change swaps", []*corev1.Pod{
			pod("a", "10.0.0.1", workerLabels, notReady), pod("b", "10.0.0.5", workerLabels),
		}, []string{"regular http://10.0.0.5:8000", "regular " + static}},
		{"a pod claiming the static URL does not take it over", []*corev1.Pod{
			pod("b", "10.0.0.5", workerLabels), pod("s", "10.0.0.9", workerLabels),
		}, []string{"regular http://10.0.0.5:8000", "regular " + static}},
		{"and its leaving does not remove the static worker", []*corev1.Pod{},
			[]string{"regular " + static}},
	}
	for _, s := range steps {
		d.reconcile(ctx, s.pods, false)
		if got := sink.list(); !equal(got, s.want) {
			t.Fatalf("%s: sink = %q, want %q", s.name, got, s.want)
		}
	}
	if a, r := rec.added.Load(), rec.removed.Load(); a != 3 || r != 3 {
		t.Errorf("metrics: added %d removed %d, want 3 and 3", a, r)
	}
	reasons := map[string]bool{}
	for _, e := range logs.FilterMessage("discovered worker removed").All() {
		reasons[e.ContextMap()["reason"].(string)] = true
	}
	for _, want := range []string{"pod is not Ready", "pod IP changed to 10.0.0.5", "pod deleted"} {
		if !reasons[want] {
			t.Errorf("no removal logged with reason %q (got %v)", want, reasons)
		}
	}
}

func TestRefusedWorkerIsLoggedOnceAndRetriedAtResync(t *testing.T) {
	const url = "http://10.0.0.1:8000"
	sink := newSink(url)
	log, logs := observed()
	d := New(regularCfg, sink, log, nil)
	pods := []*corev1.Pod{pod("a", "10.0.0.1", workerLabels)}
	for i := 0; i < 3; i++ {
		d.reconcile(context.Background(), pods, i == 2)
	}
	if w := warnings(logs); len(w) != 1 || !strings.Contains(w[0], "already configured") {
		t.Fatalf("warnings = %q, want one about the configured worker", w)
	}
	_ = sink.RemoveWorker(url) // the operator removes the static worker
	d.reconcile(context.Background(), pods, false)
	if len(sink.list()) != 0 {
		t.Fatal("a refused worker was retried before the resync")
	}
	d.reconcile(context.Background(), pods, true)
	if got := sink.list(); !equal(got, []string{"regular " + url}) {
		t.Fatalf("after resync sink = %q", got)
	}
	_ = sink.RemoveWorker(url) // removed by hand: discovery must not complain
	d.reconcile(context.Background(), nil, false)
	if w := warnings(logs); len(w) != 1 {
		t.Errorf("unexpected warnings %q", w)
	}
}

func TestRelabelledPodChangesRole(t *testing.T) {
	sink := newSink()
	d := New(pdCfg, sink, nil, nil)
	ctx := context.Background()
	d.reconcile(ctx, []*corev1.Pod{pod("a", "10.0.0.1", prefillLabels, annotated("9001"))}, false)
	d.reconcile(ctx, []*corev1.Pod{pod("a", "10.0.0.1", prefillLabels, annotated("9002"))}, false)
	if got := sink.list(); !equal(got, []string{"prefill http://10.0.0.1:8000 9002"}) {
		t.Fatalf("after bootstrap port change sink = %q", got)
	}
	d.reconcile(ctx, []*corev1.Pod{pod("a", "10.0.0.1", decodeLabels)}, false)
	if got := sink.list(); !equal(got, []string{"decode http://10.0.0.1:8000"}) {
		t.Fatalf("after relabel sink = %q", got)
	}
}

func TestBadBootstrapAnnotationIsLogged(t *testing.T) {
	log, logs := observed()
	d := New(pdCfg, newSink(), log, nil)
	d.reconcile(context.Background(), []*corev1.Pod{pod("a", "10.0.0.1", prefillLabels, annotated("x"))}, false)
	if w := warnings(logs); len(w) != 1 || !strings.Contains(w[0], "not a port") {
		t.Fatalf("warnings = %q", w)
	}
}

func TestModelAnnotationGivesTheWorkersModel(t *testing.T) {
	cfg := regularCfg
	cfg.ModelAnnotation = "sglang.ai/model"
	sink := newSink()
	d := New(cfg, sink, nil, &counter{})
	model := func(m string) func(*corev1.Pod) {
		return func(p *corev1.Pod) { p.Annotations = map[string]string{"sglang.ai/model": m} }
	}
	d.reconcile(context.Background(), []*corev1.Pod{pod("a", "10.0.0.1", workerLabels, model("llama")), pod("b", "10.0.0.2", workerLabels)}, false)
	if got := sink.spec("http://10.0.0.1:8000").Model; got != "llama" {
		t.Errorf("annotated pod's model = %q, want llama", got)
	}
	if got := sink.spec("http://10.0.0.2:8000").Model; got != "" {
		t.Errorf("pod without the annotation has model %q; it must be learned", got)
	}
	d.reconcile(context.Background(), []*corev1.Pod{pod("a", "10.0.0.1", workerLabels, model("qwen")), pod("b", "10.0.0.2", workerLabels)}, false)
	if got := sink.spec("http://10.0.0.1:8000").Model; got != "qwen" {
		t.Errorf("after the annotation changed the model = %q, want qwen (the worker re-added)", got)
	}
}
