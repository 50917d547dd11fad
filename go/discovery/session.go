package discovery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
)

// probeTimeout bounds the first request of a session.
const probeTimeout = 10 * time.Second

// safeSession runs one session and turns a panic into an error, so a bug
// here costs a retry, never the process.
func (d *Discovery) safeSession(ctx context.Context) (synced bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			d.log.Error("service discovery panicked", zap.Any("panic", r), zap.Stack("stack"))
			err = fmt.Errorf("internal error: %v", r)
		}
	}()
	return d.session(ctx)
}

// session is one connection: find the API server, check that pods can be
// listed, then list and watch them until the watch fails or ctx ends.
// synced reports whether it got as far as a full list.
func (d *Discovery) session(ctx context.Context) (synced bool, err error) {
	rc, err := restConfig(d.cfg.Kubeconfig)
	if err != nil {
		return false, err
	}
	pods, err := newPodClient(rc, d.cfg.Namespace)
	if err != nil {
		return false, configError{err}
	}
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	_, err = pods.List(pctx, metav1.ListOptions{LabelSelector: d.match.serverSelector(), Limit: 1})
	cancel()
	if err != nil {
		return false, err
	}
	return d.watch(ctx, pods, rc.Host)
}

// watch runs an informer and reconciles after its first full list, on
// every relevant pod event, and every Resync. It returns when the informer
// reports a failed list or watch (the caller reconnects with backoff and a
// fresh list) or when ctx ends.
func (d *Discovery) watch(ctx context.Context, pods *podClient, server string) (synced bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	failed := make(chan error, 1)
	inf := d.informer(pods, failed)
	poke := make(chan struct{}, 1)
	if _, err := inf.AddEventHandler(d.handler(poke)); err != nil {
		cancel()
		return false, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		inf.RunWithContext(ctx)
	}()
	defer func() { cancel(); <-done }()
	syncedC := inf.HasSyncedChecker().Done()
	tick := time.NewTicker(d.cfg.Resync)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return synced, nil
		case err := <-failed:
			return synced, err
		case <-syncedC:
			synced, syncedC = true, nil
			list := podsOf(inf.GetStore())
			d.reconcile(ctx, list, true)
			d.reportUp(server, len(list))
		case <-poke:
			if synced {
				d.reconcile(ctx, podsOf(inf.GetStore()), false)
			}
		case <-tick.C:
			if synced {
				d.reconcile(ctx, podsOf(inf.GetStore()), true)
			}
		}
	}
}

// informer builds a pod informer whose list and watch calls report their
// failures on failed. Its own retry loop is not used for outages: the
// session ends, so the backoff is discovery's and the next session starts
// from a full list.
func (d *Discovery) informer(pods *podClient, failed chan<- error) cache.SharedIndexInformer {
	report := func(err error) {
		if err != nil && !benign(err) {
			select {
			case failed <- err:
			default:
			}
		}
	}
	sel := d.match.serverSelector()
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.LabelSelector = sel
			l, err := pods.List(ctx, o)
			report(err)
			return l, err
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.LabelSelector = sel
			w, err := pods.Watch(ctx, o)
			report(err)
			return w, err
		},
	}
	inf := cache.NewSharedIndexInformerWithOptions(lw, &corev1.Pod{}, cache.SharedIndexInformerOptions{ObjectDescription: "pods"})
	_ = inf.SetTransform(d.slim)
	_ = inf.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) { report(err) })
	return inf
}

// benign errors are part of a healthy watch's life (expiry, a stream closed
// by the server, our own cancellation); the informer handles them itself.
func benign(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.Canceled) ||
		apierrors.IsResourceExpired(err) || apierrors.IsGone(err)
}

// handler counts relevant pod events and wakes the reconcile loop. It runs
// on the informer's goroutine, so it only signals.
func (d *Discovery) handler(poke chan<- struct{}) cache.ResourceEventHandler {
	notify := func(objs ...any) {
		for _, o := range objs {
			if d.relevant(o) {
				d.rec.RecordDiscoveryUpdate()
				select {
				case poke <- struct{}{}:
				default: // a reconcile is already due
				}
				return
			}
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { notify(o) },
		UpdateFunc: func(old, cur any) { notify(old, cur) },
		DeleteFunc: func(o any) { notify(o) },
	}
}

// relevant reports whether o is (or was, for a tombstone) a pod whose
// labels match a selector.
func (d *Discovery) relevant(o any) bool {
	if t, ok := o.(cache.DeletedFinalStateUnknown); ok {
		o = t.Obj
	}
	p, ok := o.(*corev1.Pod)
	if !ok {
		return false
	}
	_, match := d.match.role(p.Labels)
	return match
}

// slim keeps only what classify reads, so the informer's copy of a large
// namespace costs little memory. It is idempotent, as the informer requires.
func (d *Discovery) slim(o any) (any, error) {
	p, ok := o.(*corev1.Pod)
	if !ok {
		return o, nil
	}
	s := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, UID: p.UID,
			ResourceVersion: p.ResourceVersion, Labels: p.Labels, DeletionTimestamp: p.DeletionTimestamp},
		Status: corev1.PodStatus{Phase: p.Status.Phase, PodIP: p.Status.PodIP},
	}
	for _, key := range []string{d.cfg.BootstrapPortAnnotation, d.cfg.ModelAnnotation} {
		if v, ok := p.Annotations[key]; ok && key != "" {
			if s.Annotations == nil {
				s.Annotations = map[string]string{}
			}
			s.Annotations[key] = v
		}
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			s.Status.Conditions = []corev1.PodCondition{{Type: c.Type, Status: c.Status}}
		}
	}
	return s, nil
}

func podsOf(store cache.Store) []*corev1.Pod {
	objs := store.List()
	pods := make([]*corev1.Pod, 0, len(objs))
	for _, o := range objs {
		if p, ok := o.(*corev1.Pod); ok {
			pods = append(pods, p)
		}
	}
	return pods
}
