package discovery

import (
	"fmt"
	"net"
	"sort"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/sgl-project/sglang-router-go/go/worker"
)

// target is the worker one pod stands for.
type target struct {
	url  string
	role worker.Role
	port *int   // prefill bootstrap port; nil = none
	pod  string // namespace/name, for logs
	// badPort is an annotation value that was not a port (logged on add).
	badPort string
	model   string // from the model annotation; "" = learned from the worker
}

// spec is the worker t stands for. classify made its URL with
// worker.NormalizeURL, so it is the form the router keys workers by.
func (t target) spec() worker.Spec {
	return worker.Spec{URL: t.url, Role: t.role, BootstrapPort: t.port, Model: t.model}
}

// sameWorker reports whether t and o describe the same worker (which pod
// stands for it does not matter).
func (t target) sameWorker(o target) bool {
	if t.url != o.url || t.role != o.role || t.model != o.model || (t.port == nil) != (o.port == nil) {
		return false
	}
	return t.port == nil || *t.port == *o.port
}

// matcher decides which pods are workers. It is immutable.
type matcher struct {
	pd                       bool
	regular, prefill, decode labels.Set
	port                     string
	annotation               string
	modelAnnotation          string
}

func newMatcher(c Config) matcher {
	return matcher{pd: c.PD, regular: c.Selector, prefill: c.PrefillSelector, decode: c.DecodeSelector,
		port: strconv.Itoa(c.Port), annotation: c.BootstrapPortAnnotation, modelAnnotation: c.ModelAnnotation}
}

// role reports the pool a pod with these labels belongs to, if any.
func (m matcher) role(podLabels map[string]string) (worker.Role, bool) {
	ls := labels.Set(podLabels)
	switch {
	case !m.pd:
		return worker.Regular, contains(ls, m.regular)
	case contains(ls, m.prefill):
		return worker.Prefill, true
	case contains(ls, m.decode):
		return worker.Decode, true
	}
	return worker.Regular, false
}

// contains reports whether ls has every key=value of sel.
func contains(ls, sel labels.Set) bool {
	for k, v := range sel {
		if got, ok := ls[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// classify returns the worker p stands for, or why it stands for none.
func (m matcher) classify(p *corev1.Pod) (target, string) {
	role, ok := m.role(p.Labels)
	switch {
	case !ok:
		return target{}, "labels no longer match the selector"
	case p.DeletionTimestamp != nil:
		return target{}, "pod is being deleted"
	case p.Status.Phase != corev1.PodRunning:
		return target{}, "pod phase is " + string(p.Status.Phase)
	case !ready(p):
		return target{}, "pod is not Ready"
	case p.Status.PodIP == "":
		return target{}, "pod has no IP"
	}
	url, err := worker.NormalizeURL("http://" + net.JoinHostPort(p.Status.PodIP, m.port))
	if err != nil {
		return target{}, "pod IP " + p.Status.PodIP + " is not an address"
	}
	t := target{url: url, role: role, pod: podKey(p)}
	if m.modelAnnotation != "" {
		t.model = p.Annotations[m.modelAnnotation]
	}
	if role == worker.Prefill {
		t.port, t.badPort = bootstrapPort(p.Annotations[m.annotation])
	}
	return t, ""
}

func ready(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// bootstrapPort parses the annotation: a port, or nil (with the bad value
// when it was set but not a port).
func bootstrapPort(v string) (*int, string) {
	if v == "" {
		return nil, ""
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 65535 {
		return nil, v
	}
	return &n, ""
}

func podKey(p *corev1.Pod) string { return p.Namespace + "/" + p.Name }

// serverSelector is the label selector the API server can apply for us:
// the selector in regular mode; in PD mode the pairs both selectors share
// (a pod matching either has them), possibly none. The rest is filtered
// here.
func (m matcher) serverSelector() string {
	if !m.pd {
		return m.regular.String()
	}
	common := labels.Set{}
	for k, v := range m.prefill {
		if w, ok := m.decode[k]; ok && w == v {
			common[k] = v
		}
	}
	return common.String()
}

// desired maps each worker URL to the pod that stands for it. Pods are
// taken in name order, so when two pods claim one URL the choice is stable.
func (m matcher) desired(pods []*corev1.Pod) map[string]target {
	sort.Slice(pods, func(i, j int) bool { return podKey(pods[i]) < podKey(pods[j]) })
	want := make(map[string]target, len(pods))
	for _, p := range pods {
		if t, why := m.classify(p); why == "" {
			if _, dup := want[t.url]; !dup {
				want[t.url] = t
			}
		}
	}
	return want
}

// validate rejects selectors the API server could never accept.
func (m matcher) validate() error {
	for name, sel := range map[string]labels.Set{"selector": m.regular, "prefill_selector": m.prefill, "decode_selector": m.decode} {
		if _, err := labels.ValidatedSelectorFromSet(sel); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}
