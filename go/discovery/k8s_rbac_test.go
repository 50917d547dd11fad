package discovery

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// deployDir holds the manifests users apply (repository's deploy/).
var deployDir = filepath.Join("..", "..", "deploy")

func manifest(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(deployDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestServiceAccountWithTheREADMEsRBAC runs discovery as the router's
// service account, with exactly the permissions of deploy/ (the seed
// README's Role, then its ClusterRole).
func TestServiceAccountWithTheREADMEsRBAC(t *testing.T) {
	e := newEnv(t)
	apply, err := e.c.Primary().Applier()
	must(t, err)
	must(t, apply.Delete(e.ctx, manifest(t, "rbac-cluster.yaml"))) // left by an earlier -count run
	for _, f := range []string{"namespace.yaml", "rbac-namespace.yaml"} {
		must(t, apply.Apply(e.ctx, manifest(t, f), false))
	}
	t.Cleanup(func() { _ = apply.Delete(e.ctx, manifest(t, "rbac-cluster.yaml")) })
	token, err := e.kube.ServiceAccountToken(e.ctx, "sglang-system", "sglang-router")
	must(t, err)
	kc, err := e.c.Primary().WriteKubeconfig("router-sa", token)
	must(t, err)

	labels := map[string]string{"app": "sglang-worker", "role": "inference", "test": "rbac"}
	must(t, e.kube.StartPod(e.ctx, "sglang-system", "rbac-worker", "127.0.3.1", labels, nil))
	t.Cleanup(func() { _ = e.kube.Delete(e.ctx, "sglang-system", "rbac-worker", false) })
	must(t, e.kube.StartPod(e.ctx, e.ns, "elsewhere", "127.0.3.2", labels, nil))

	// The Role is enough to watch the router's own namespace.
	nsSink := newSink()
	nsLog, nsLogs := observed()
	defer run(New(fastRetry(Config{Selector: labels, Namespace: "sglang-system", Port: 8000, Kubeconfig: kc}), nsSink, nsLog, nil))()
	waitWorkers(t, nsSink, wait, "regular "+url("127.0.3.1"))

	// Watching every namespace is forbidden until the ClusterRole is bound;
	// discovery says why once and keeps retrying.
	allSink := newSink()
	allLog, allLogs := observed()
	defer run(New(fastRetry(Config{Selector: labels, Port: 8000, Kubeconfig: kc}), allSink, allLog, nil))()
	eventually(t, wait, func() string { return "no 'not allowed' warning" },
		func() bool { return allLogs.FilterMessageSnippet("not allowed to watch pods").Len() > 0 })
	if !strings.Contains(warnings(allLogs)[0], "ClusterRole") {
		t.Errorf("the warning does not say what is missing: %q", warnings(allLogs)[0])
	}
	must(t, apply.Apply(e.ctx, manifest(t, "rbac-cluster.yaml"), false))
	waitWorkers(t, allSink, wait, "regular "+url("127.0.3.1"), "regular "+url("127.0.3.2"))
	if w := warnings(allLogs); len(w) != 1 {
		t.Errorf("warnings = %q, want exactly one (logged once, not per retry)", w)
	}
	if w := warnings(nsLogs); len(w) != 0 {
		t.Errorf("namespace-scoped discovery warned: %q", w)
	}
}

// TestDeployManifestsPassServerSideDryRun sends every object of deploy/ to
// the API server with dryRun=All and strict field validation.
func TestDeployManifestsPassServerSideDryRun(t *testing.T) {
	e := newEnv(t)
	apply, err := e.c.Primary().Applier()
	must(t, err)
	must(t, e.kube.EnsureNamespace(e.ctx, "sglang-system")) // a dry-run namespace is not stored
	var files []string
	must(t, filepath.WalkDir(deployDir, func(p string, de os.DirEntry, err error) error {
		if err == nil && de.IsDir() && (de.Name() == "grafana" || de.Name() == "helm") {
			return filepath.SkipDir // dashboards and Grafana provisioning; the chart (k8s_helm_test.go)
		}
		if err == nil && !de.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			files = append(files, p)
		}
		return err
	}))
	if len(files) < 5 {
		t.Fatalf("found only %q in %s", files, deployDir)
	}
	for _, f := range files {
		t.Run(filepath.ToSlash(strings.TrimPrefix(f, deployDir+string(filepath.Separator))), func(t *testing.T) {
			b, err := os.ReadFile(f)
			must(t, err)
			if err := apply.Apply(e.ctx, b, true); err != nil {
				t.Fatal(err)
			}
		})
	}
}
