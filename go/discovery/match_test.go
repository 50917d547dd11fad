package discovery

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// pod builds a Running, Ready pod at ip; opts adjust it.
func pod(name, ip string, labels map[string]string, opts ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: labels},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func notReady(p *corev1.Pod) { p.Status.Conditions[0].Status = corev1.ConditionFalse }
func pending(p *corev1.Pod)  { p.Status.Phase = corev1.PodPending }
func deleting(p *corev1.Pod) { now := metav1.Now(); p.DeletionTimestamp = &now }
func noCondition(p *corev1.Pod) {
	p.Status.Conditions = nil
}
func annotated(v string) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Annotations = map[string]string{"sglang.ai/bootstrap-port": v} }
}

var (
	regularCfg = Config{Selector: map[string]string{"app": "w", "role": "inference"}, Port: 8000,
		BootstrapPortAnnotation: "sglang.ai/bootstrap-port"}
	pdCfg = Config{PD: true, Port: 8000, BootstrapPortAnnotation: "sglang.ai/bootstrap-port",
		PrefillSelector: map[string]string{"app": "sglang", "component": "prefill"},
		DecodeSelector:  map[string]string{"app": "sglang", "component": "decode"}}
	workerLabels  = map[string]string{"app": "w", "role": "inference", "extra": "x"}
	prefillLabels = map[string]string{"app": "sglang", "component": "prefill"}
	decodeLabels  = map[string]string{"app": "sglang", "component": "decode"}
)

func describe(t target, why string) string {
	if why != "" {
		return "none: " + why
	}
	s := t.role.String() + " " + t.url
	if t.port != nil {
		s += fmt.Sprintf(" %d", *t.port)
	}
	if t.badPort != "" {
		s += " bad=" + t.badPort
	}
	return s
}

func TestClassify(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		pod  *corev1.Pod
		want string
	}{
		{"ready matching pod is a worker", regularCfg, pod("a", "10.0.0.1", workerLabels), "regular http://10.0.0.1:8000"},
		{"missing label", regularCfg, pod("a", "10.0.0.1", map[string]string{"app": "w"}), "none: labels no longer match the selector"},
		{"wrong value", regularCfg, pod("a", "10.0.0.1", map[string]string{"app": "w", "role": "other"}), "none: labels no longer match the selector"},
		{"pending", regularCfg, pod("a", "10.0.0.1", workerLabels, pending), "none: pod phase is Pending"},
		{"not ready", regularCfg, pod("a", "10.0.0.1", workerLabels, notReady), "none: pod is not Ready"},
		{"no ready condition", regularCfg, pod("a", "10.0.0.1", workerLabels, noCondition), "none: pod is not Ready"},
		{"no ip", regularCfg, pod("a", "", workerLabels), "none: pod has no IP"},
		{"being deleted", regularCfg, pod("a", "10.0.0.1", workerLabels, deleting), "none: pod is being deleted"},
		{"ipv6", regularCfg, pod("a", "fd00::1", workerLabels), "regular http://[fd00::1]:8000"},
		{"empty selector matches every pod", Config{Port: 80}, pod("a", "10.0.0.1", nil), "regular http://10.0.0.1:80"},
		{"prefill with bootstrap port", pdCfg, pod("a", "10.0.0.1", prefillLabels, annotated("9001")), "prefill http://10.0.0.1:8000 9001"},
		{"prefill without annotation", pdCfg, pod("a", "10.0.0.1", prefillLabels), "prefill http://10.0.0.1:8000"},
		{"prefill with bad annotation", pdCfg, pod("a", "10.0.0.1", prefillLabels, annotated("abc")), "prefill http://10.0.0.1:8000 bad=abc"},
		{"prefill with port out of range", pdCfg, pod("a", "10.0.0.1", prefillLabels, annotated("70000")), "prefill http://10.0.0.1:8000 bad=70000"},
		{"decode ignores the annotation", pdCfg, pod("a", "10.0.0.1", decodeLabels, annotated("9001")), "decode http://10.0.0.1:8000"},
		{"prefill wins when both match", Config{PD: true, Port: 1, PrefillSelector: map[string]string{"a": "1"}, DecodeSelector: map[string]string{"b": "2"}},
			pod("a", "10.0.0.1", map[string]string{"a": "1", "b": "2"}), "prefill http://10.0.0.1:1"},
		{"pd pod matching neither", pdCfg, pod("a", "10.0.0.1", map[string]string{"app": "sglang"}), "none: labels no longer match the selector"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := c.cfg.withDefaults()
			if got := describe(newMatcher(cfg).classify(c.pod)); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestServerSelector(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"regular uses the selector", regularCfg, "app=w,role=inference"},
		{"regular without selector lists everything", Config{}, ""},
		{"pd uses the pairs both selectors share", pdCfg, "app=sglang"},
		{"pd with nothing shared filters here", Config{PD: true, PrefillSelector: map[string]string{"a": "1"},
			DecodeSelector: map[string]string{"a": "2"}}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := newMatcher(c.cfg).serverSelector(); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestInvalidSelectorIsReported(t *testing.T) {
	m := newMatcher(Config{Selector: map[string]string{"app": "has spaces"}})
	if err := m.validate(); err == nil {
		t.Fatal("a label value with spaces was accepted")
	}
	if err := newMatcher(pdCfg).validate(); err != nil {
		t.Fatal(err)
	}
}

func TestTwoPodsWithOneURLPickTheFirstByName(t *testing.T) {
	m := newMatcher(regularCfg)
	want := m.desired([]*corev1.Pod{pod("b", "10.0.0.1", workerLabels), pod("a", "10.0.0.1", workerLabels)})
	if len(want) != 1 || want["http://10.0.0.1:8000"].pod != "ns/a" {
		t.Fatalf("desired = %+v", want)
	}
}

func TestSlimKeepsWhatClassifyReads(t *testing.T) {
	d := New(pdCfg, newSink(), nil, nil)
	full := pod("a", "10.0.0.1", prefillLabels, annotated("9001"), deleting)
	full.Annotations["other"] = "big"
	full.Spec.Containers = []corev1.Container{{Name: "c", Image: "i"}}
	full.Status.Conditions = append(full.Status.Conditions, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue})
	o, _ := d.slim(full)
	s := o.(*corev1.Pod)
	if len(s.Spec.Containers) != 0 || len(s.Annotations) != 1 || len(s.Status.Conditions) != 1 {
		t.Errorf("slim kept too much: %+v", s)
	}
	for _, p := range []*corev1.Pod{full, s} {
		p.DeletionTimestamp = nil
	}
	if a, b := describe(d.match.classify(full)), describe(d.match.classify(s)); a != b {
		t.Errorf("classify differs after slim: %q vs %q", a, b)
	}
	if again, _ := d.slim(s); describe(d.match.classify(again.(*corev1.Pod))) != describe(d.match.classify(s)) {
		t.Error("slim is not idempotent")
	}
}
