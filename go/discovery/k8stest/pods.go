package k8stest

import (
	"context"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
)

// Kube changes the cluster as a user with the admin token would, standing
// in for the kubelet where pod status is concerned.
type Kube struct {
	Core corev1client.CoreV1Interface
}

// Admin returns a Kube that talks to s as a cluster admin.
func (s *APIServer) Admin() (*Kube, error) {
	core, err := corev1client.NewForConfig(s.RESTConfig(AdminToken))
	if err != nil {
		return nil, err
	}
	return &Kube{Core: core}, nil
}

// EnsureNamespace creates ns unless it exists.
func (k *Kube) EnsureNamespace(ctx context.Context, ns string) error {
	_, err := k.Core.Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// CreatePod creates a pod bound to a (fictitious) node, as the scheduler
// would have: Pending, no IP, not Ready.
func (k *Kube) CreatePod(ctx context.Context, ns, name string, labels, annotations map[string]string) error {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels, Annotations: annotations},
		Spec: corev1.PodSpec{
			NodeName:   "node-1",
			Containers: []corev1.Container{{Name: "sglang", Image: "lmsysorg/sglang:latest"}},
		},
	}
	_, err := k.Core.Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	return err
}

// SetStatus writes what a kubelet would: phase Running, the pod IP, and the
// Ready condition.
func (k *Kube) SetStatus(ctx context.Context, ns, name, ip string, ready bool) error {
	pods := k.Core.Pods(ns)
	pod, err := pods.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	cond := corev1.ConditionFalse
	if ready {
		cond = corev1.ConditionTrue
	}
	now := metav1.Now()
	pod.Status = corev1.PodStatus{
		Phase:  corev1.PodRunning,
		PodIP:  ip,
		PodIPs: []corev1.PodIP{{IP: ip}},
		Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.PodReady, Status: cond, LastTransitionTime: now},
		},
	}
	_, err = pods.UpdateStatus(ctx, pod, metav1.UpdateOptions{})
	return err
}

// StartPod creates a pod and makes it Running and Ready at ip.
func (k *Kube) StartPod(ctx context.Context, ns, name, ip string, labels, annotations map[string]string) error {
	if err := k.CreatePod(ctx, ns, name, labels, annotations); err != nil {
		return err
	}
	return k.SetStatus(ctx, ns, name, ip, true)
}

// Relabel replaces the pod's labels.
func (k *Kube) Relabel(ctx context.Context, ns, name string, labels map[string]string) error {
	pods := k.Core.Pods(ns)
	pod, err := pods.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	pod.Labels = labels
	_, err = pods.Update(ctx, pod, metav1.UpdateOptions{})
	return err
}

// Delete deletes the pod. Gracefully, a pod on a node only gets its
// deletionTimestamp (there is no kubelet to finish the job); with grace 0
// it is gone at once.
func (k *Kube) Delete(ctx context.Context, ns, name string, graceful bool) error {
	opts := metav1.DeleteOptions{}
	if !graceful {
		zero := int64(0)
		opts.GracePeriodSeconds = &zero
	}
	return k.Core.Pods(ns).Delete(ctx, name, opts)
}

// ServiceAccountToken creates the service account (if needed) and returns
// a token for it from the TokenRequest API, as a pod would mount.
func (k *Kube) ServiceAccountToken(ctx context.Context, ns, name string) (string, error) {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	if _, err := k.Core.ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return "", err
	}
	hour := int64(3600)
	tr, err := k.Core.ServiceAccounts(ns).CreateToken(ctx, name,
		&authv1.TokenRequest{Spec: authv1.TokenRequestSpec{ExpirationSeconds: &hour}}, metav1.CreateOptions{})
	if err != nil {
		return "", err
	}
	return tr.Status.Token, nil
}
