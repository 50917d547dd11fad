package discovery

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sgl-project/sglang-router-go/go/discovery/k8stest"
)

// chartDir is the router's Helm chart (repository's deploy/helm).
var chartDir = filepath.Join(deployDir, "helm", "sglang-router")

// TestHelmChartPassesServerSideDryRun renders the chart with the real helm
// binary for each example values file (regular, discovery, PD) and sends
// every object to the API server with dryRun=All and strict validation.
func TestHelmChartPassesServerSideDryRun(t *testing.T) {
	helm, err := k8stest.FindHelm()
	if err != nil {
		if k8stest.Required() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	e := newEnv(t)
	apply, err := e.c.Primary().Applier()
	must(t, err)
	must(t, e.kube.EnsureNamespace(e.ctx, "sglang-system"))
	examples, err := filepath.Glob(filepath.Join(chartDir, "examples", "*.yaml"))
	must(t, err)
	if len(examples) < 3 {
		t.Fatalf("found only %q", examples)
	}
	for _, values := range examples {
		t.Run(filepath.Base(values), func(t *testing.T) {
			out := render(t, helm, "-f", values)
			for _, kind := range []string{"kind: Deployment", "kind: Service", "kind: PodDisruptionBudget"} {
				if !bytes.Contains(out, []byte(kind)) {
					t.Errorf("rendered chart lacks %s", kind)
				}
			}
			if err := apply.Apply(e.ctx, out, true); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestHelmChartRefusesNoWorkers: without workers, discovery or PD the
// chart fails to render with a message saying what to set.
func TestHelmChartRefusesNoWorkers(t *testing.T) {
	helm, err := k8stest.FindHelm()
	if err != nil {
		t.Skip(err)
	}
	cmd := exec.Command(helm, "template", "r", chartDir, "--namespace", "sglang-system")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "set workerUrls, serviceDiscovery.enabled or pd.enabled") {
		t.Fatalf("helm template without workers: %v\n%s", err, out)
	}
}

// render runs helm template on the chart with args.
func render(t *testing.T, helm string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(helm, append([]string{"template", "r", chartDir, "--namespace", "sglang-system"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm template %v: %v\n%s", args, err, stderr.String())
	}
	return out
}
