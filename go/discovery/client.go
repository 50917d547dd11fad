package discovery

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
)

// podClient lists and watches pods in one namespace ("" = all) through a
// REST client that knows only the core/v1 types. The generated clientset
// would register every API group and apply configuration, some 25 MB more
// in the shared library, for two calls.
type podClient struct {
	rest rest.Interface
	ns   string
}

func newPodClient(rc *rest.Config, ns string) (*podClient, error) {
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	c := rest.CopyConfig(rc)
	c.GroupVersion = &corev1.SchemeGroupVersion
	c.APIPath = "/api"
	c.NegotiatedSerializer = serializer.NewCodecFactory(scheme).WithoutConversion()
	rcl, err := rest.RESTClientFor(c)
	if err != nil {
		return nil, err
	}
	return &podClient{rest: rcl, ns: ns}, nil
}

func (p *podClient) List(ctx context.Context, opts metav1.ListOptions) (*corev1.PodList, error) {
	out := &corev1.PodList{}
	err := p.rest.Get().Namespace(p.ns).Resource("pods").
		VersionedParams(&opts, metav1.ParameterCodec).Do(ctx).Into(out)
	return out, err
}

func (p *podClient) Watch(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
	opts.Watch = true
	return p.rest.Get().Namespace(p.ns).Resource("pods").
		VersionedParams(&opts, metav1.ParameterCodec).Watch(ctx)
}
