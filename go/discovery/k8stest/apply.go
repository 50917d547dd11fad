package k8stest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
)

// Applier applies YAML manifests through the dynamic client.
type Applier struct {
	dyn    dynamic.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper
}

// Applier returns an Applier that acts as a cluster admin on s.
func (s *APIServer) Applier() (*Applier, error) {
	rc := s.RESTConfig(AdminToken)
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	disc, err := discovery.NewDiscoveryClientForConfig(rc)
	if err != nil {
		return nil, err
	}
	return &Applier{dyn: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memoryCache{disc})}, nil
}

// Objects decodes every document of a multi-document YAML manifest.
func Objects(manifest []byte) ([]*unstructured.Unstructured, error) {
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(manifest), 4096)
	var out []*unstructured.Unstructured
	for {
		var obj map[string]any
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if len(obj) > 0 {
			out = append(out, &unstructured.Unstructured{Object: obj})
		}
	}
}

// Apply applies every object of manifest with server-side apply, as
// `kubectl apply --server-side` would: it creates or updates, so it may be
// repeated. With dryRun the API server validates (strictly: an unknown
// field is an error), defaults, admits and authorizes each object without
// storing it.
func (a *Applier) Apply(ctx context.Context, manifest []byte, dryRun bool) error {
	objs, err := Objects(manifest)
	if err != nil {
		return err
	}
	for _, obj := range objs {
		if err := a.apply(ctx, obj, dryRun); err != nil {
			return fmt.Errorf("%s %s/%s: %w", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
		}
	}
	return nil
}

func (a *Applier) apply(ctx context.Context, obj *unstructured.Unstructured, dryRun bool) error {
	res, err := a.resource(obj)
	if err != nil {
		return err
	}
	body, err := json.Marshal(obj.Object)
	if err != nil {
		return err
	}
	force := true
	opts := metav1.PatchOptions{FieldManager: "sglang-router-tests", Force: &force, FieldValidation: "Strict"}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	_, err = res.Patch(ctx, obj.GetName(), types.ApplyPatchType, body, opts)
	return err
}

// Delete deletes every object of manifest; objects already gone are fine.
func (a *Applier) Delete(ctx context.Context, manifest []byte) error {
	objs, err := Objects(manifest)
	if err != nil {
		return err
	}
	for _, obj := range objs {
		res, err := a.resource(obj)
		if err == nil {
			err = res.Delete(ctx, obj.GetName(), metav1.DeleteOptions{})
		}
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("%s %s/%s: %w", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
		}
	}
	return nil
}

// resource is the dynamic client for obj's kind (and namespace).
func (a *Applier) resource(obj *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvk := obj.GroupVersionKind()
	m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, err
	}
	if m.Scope.Name() == "namespace" {
		return a.dyn.Resource(m.Resource).Namespace(obj.GetNamespace()), nil
	}
	return a.dyn.Resource(m.Resource), nil
}

// memoryCache adapts a discovery client to the cached interface the REST
// mapper wants; a test's mapper lives briefly, so nothing is cached.
type memoryCache struct{ discovery.DiscoveryInterface }

func (memoryCache) Fresh() bool { return true }
func (memoryCache) Invalidate() {}
