package discovery

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestKindOf(t *testing.T) {
	pods := schema.GroupResource{Resource: "pods"}
	cases := []struct {
		name string
		err  error
		want connKind
	}{
		{"no configuration", errNoConfig, connNoConfig},
		{"broken kubeconfig", configError{errors.New("bad yaml")}, connBadConfig},
		{"forbidden", apierrors.NewForbidden(pods, "", errors.New("no")), connForbidden},
		{"unauthorized", apierrors.NewUnauthorized("who"), connUnauthorized},
		{"server error", apierrors.NewInternalError(errors.New("boom")), connFailing},
		{"connection refused", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, connUnreachable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := kindOf(c.err); got != c.want {
				t.Errorf("kindOf = %d, want %d", got, c.want)
			}
		})
	}
}

func TestFailuresAreLoggedOncePerChangeOfState(t *testing.T) {
	log, logs := observed()
	d := New(Config{Namespace: "ns"}, newSink(), log, nil)
	refused := &net.OpError{Op: "dial", Err: errors.New("connection refused")}
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New("no"))
	for _, err := range []error{refused, refused, refused, forbidden, forbidden} {
		d.reportFailure(err, time.Second)
	}
	d.reportUp("https://k8s", 0)
	d.reportUp("https://k8s", 0)
	d.reportFailure(refused, time.Second)
	w := warnings(logs)
	if len(w) != 3 {
		t.Fatalf("warnings = %q, want 3 (unreachable, forbidden, unreachable again)", w)
	}
	if !strings.Contains(w[1], `pods in namespace "ns"`) {
		t.Errorf("forbidden warning lacks the RBAC hint: %q", w[1])
	}
	if n := logs.FilterMessageSnippet("watching pods").Len(); n != 1 {
		t.Errorf("%d 'watching pods' logs, want 1", n)
	}
}

// noCluster makes the process look like it runs outside any cluster with no
// kubeconfig anywhere.
func noCluster(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBECONFIG", "")
	t.Setenv("HOME", t.TempDir()) // no ~/.kube/config
}

func TestWithoutAClusterDiscoveryWaitsQuietly(t *testing.T) {
	noCluster(t)
	sink := newSink("http://static:1")
	log, logs := observed()
	d := New(Config{Selector: map[string]string{"app": "w"}, Port: 80, RetryMin: 2 * time.Millisecond, RetryMax: 10 * time.Millisecond}, sink, log, nil)
	stop := run(d)
	time.Sleep(200 * time.Millisecond) // about twenty attempts
	stop()
	if w := warnings(logs); len(w) != 1 || !strings.Contains(w[0], "no Kubernetes API server") {
		t.Fatalf("warnings = %q, want exactly one about the missing cluster", w)
	}
	if got := sink.list(); !equal(got, []string{"regular http://static:1"}) {
		t.Fatalf("sink changed: %q", got)
	}
}

func TestKubeconfigIsFoundThroughTheEnvironment(t *testing.T) {
	noCluster(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing listens there now
	kc := filepath.Join(t.TempDir(), "config")
	cfg := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:" + strconv.Itoa(port) +
		"\nusers:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n"
	if err := os.WriteFile(kc, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, where := range []string{"KUBECONFIG", "HOME"} {
		t.Run(where, func(t *testing.T) {
			if where == "KUBECONFIG" {
				t.Setenv("KUBECONFIG", kc)
			} else {
				home := t.TempDir()
				_ = os.Mkdir(filepath.Join(home, ".kube"), 0o700)
				_ = os.Rename(kc, filepath.Join(home, ".kube", "config"))
				t.Setenv("HOME", home)
			}
			log, logs := observed()
			d := New(Config{Port: 80, RetryMin: 5 * time.Millisecond, RetryMax: 10 * time.Millisecond}, newSink(), log, nil)
			stop := run(d)
			eventually(t, 5*time.Second, func() string { return strings.Join(warnings(logs), "; ") },
				func() bool { return logs.FilterMessageSnippet("cannot reach").Len() > 0 })
			stop()
			if w := warnings(logs); len(w) != 1 {
				t.Errorf("warnings = %q, want one", w)
			}
		})
	}
}
