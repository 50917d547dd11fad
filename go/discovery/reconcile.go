package discovery

import (
	"context"
	"errors"
	"sort"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"

	"github.com/sgl-project/sglang-router-go/go/worker"
)

// reconcile makes the sink's discovered workers equal to the workers the
// pods stand for: it removes what discovery added and no pod stands for any
// more (deleted, NotReady, relabelled, IP changed, also while disconnected),
// then adds what is missing. Workers it did not add are never touched.
// retryRefused also retries additions the sink refused before.
func (d *Discovery) reconcile(ctx context.Context, pods []*corev1.Pod, retryRefused bool) {
	want := d.match.desired(pods)
	for _, url := range sortedKeys(d.added) {
		had := d.added[url]
		if t, ok := want[url]; ok && t.sameWorker(had) {
			d.added[url] = t // the pod standing for it may have changed
			continue
		}
		d.remove(had, removalReason(d.match, had, pods))
	}
	for url := range d.refused {
		if _, ok := want[url]; !ok {
			delete(d.refused, url)
		}
	}
	for _, url := range sortedKeys(want) {
		if _, ok := d.added[url]; ok {
			continue
		}
		if _, ok := d.refused[url]; ok && !retryRefused {
			continue
		}
		d.add(ctx, want[url])
	}
}

func (d *Discovery) add(ctx context.Context, t target) {
	// A discovered worker joins without waiting for its /health, so a slow
	// worker never holds up discovery, and healthy at once, because the
	// pod's readiness vouches for it (health checks still take it out if it
	// fails them).
	err := d.sink.AddWorker(ctx, t.spec(), worker.Vouched)
	if err != nil {
		msg := err.Error()
		if d.refused[t.url] != msg {
			d.log.Warn(refusalHint(err), zap.String("pod", t.pod), zap.String("worker", t.url), zap.Error(err))
		}
		d.refused[t.url] = msg
		return
	}
	delete(d.refused, t.url)
	d.added[t.url] = t
	d.rec.RecordDiscoveryAdded()
	fs := []zap.Field{zap.String("pod", t.pod), zap.String("worker", t.url), zap.String("role", t.role.String())}
	if t.port != nil {
		fs = append(fs, zap.Int("bootstrap_port", *t.port))
	}
	if t.model != "" {
		fs = append(fs, zap.String("model", t.model))
	}
	d.log.Info("discovered worker added", fs...)
	if t.badPort != "" {
		d.log.Warn("bootstrap-port annotation is not a port; the prefill worker has none",
			zap.String("pod", t.pod), zap.String("annotation", d.cfg.BootstrapPortAnnotation), zap.String("value", t.badPort))
	}
}

func refusalHint(err error) string {
	if errors.Is(err, worker.ErrExists) {
		return "discovered pod has the URL of a worker already configured; leaving that worker as it is"
	}
	return "router refused a discovered worker; retrying at the next resync"
}

func (d *Discovery) remove(t target, reason string) {
	delete(d.added, t.url)
	err := d.sink.RemoveWorker(t.url)
	switch {
	case err == nil:
		d.rec.RecordDiscoveryRemoved()
		d.log.Info("discovered worker removed", zap.String("pod", t.pod), zap.String("worker", t.url), zap.String("reason", reason))
	case errors.Is(err, worker.ErrNotFound):
		d.log.Debug("discovered worker was already removed by hand", zap.String("worker", t.url))
	default:
		d.log.Warn("could not remove a discovered worker", zap.String("worker", t.url), zap.Error(err))
	}
}

// removalReason says why the pod behind t no longer stands for it.
func removalReason(m matcher, t target, pods []*corev1.Pod) string {
	for _, p := range pods {
		if podKey(p) != t.pod {
			continue
		}
		now, why := m.classify(p)
		switch {
		case why != "":
			return why
		case now.url != t.url:
			return "pod IP changed to " + p.Status.PodIP
		case now.role != t.role:
			return "pod changed role to " + now.role.String()
		case now.model != t.model:
			return "model annotation changed to " + now.model
		}
		return "bootstrap port changed"
	}
	return "pod deleted"
}

func sortedKeys(m map[string]target) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
