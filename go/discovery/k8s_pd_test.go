package discovery

import "testing"

func TestPDPodsAreClassifiedByLabels(t *testing.T) {
	e := newEnv(t)
	prefill := map[string]string{"app": "sglang", "component": "prefill"}
	decode := map[string]string{"app": "sglang", "component": "decode"}
	port := func(v string) map[string]string { return map[string]string{"sglang.ai/bootstrap-port": v} }
	must(t, e.kube.StartPod(e.ctx, e.ns, "prefill-1", "127.0.2.1", prefill, port("9001")))
	must(t, e.kube.StartPod(e.ctx, e.ns, "prefill-2", "127.0.2.2", prefill, nil))
	must(t, e.kube.StartPod(e.ctx, e.ns, "prefill-3", "127.0.2.3", prefill, port("not-a-port")))
	must(t, e.kube.StartPod(e.ctx, e.ns, "decode-1", "127.0.2.4", decode, port("9001")))
	must(t, e.kube.StartPod(e.ctx, e.ns, "neither", "127.0.2.5", map[string]string{"app": "sglang"}, nil))
	must(t, e.kube.StartPod(e.ctx, e.ns, "other-app", "127.0.2.6", map[string]string{"app": "x", "component": "decode"}, nil))

	sink := newSink("http://static-decode:8000")
	d := New(fastRetry(Config{PD: true, PrefillSelector: prefill, DecodeSelector: decode, Namespace: e.ns, Port: 8000,
		BootstrapPortAnnotation: "sglang.ai/bootstrap-port", Kubeconfig: e.kubeconfig}), sink, nil, nil)
	defer run(d)()
	waitWorkers(t, sink, wait,
		"prefill "+url("127.0.2.1")+" 9001", "prefill "+url("127.0.2.2"), "prefill "+url("127.0.2.3"),
		"decode "+url("127.0.2.4"), "regular http://static-decode:8000")

	must(t, e.kube.Relabel(e.ctx, e.ns, "prefill-2", decode))
	must(t, e.kube.Delete(e.ctx, e.ns, "prefill-1", true))
	waitWorkers(t, sink, wait,
		"decode "+url("127.0.2.2"), "prefill "+url("127.0.2.3"),
		"decode "+url("127.0.2.4"), "regular http://static-decode:8000")
}
