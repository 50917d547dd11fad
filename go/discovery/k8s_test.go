package discovery

// Fixtures of the tests against a real API server (files k8s_*_test.go).
// One cluster (etcd + API server) is started on first use and shared by
// every test of the package; each test works in its own namespace.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sgl-project/sglang-router-go/go/discovery/k8stest"
)

// shared is the package's one cluster, started lazily so that unit tests
// run without it. Test-only state: TestMain closes it.
var shared struct {
	once sync.Once
	c    *k8stest.Cluster
	err  error
	ns   atomic.Int64 // namespaces made so far, for unique names
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.c != nil {
		shared.c.Close()
	}
	os.Exit(code)
}

// cluster returns the shared cluster, skipping the test when the binaries
// are missing (failing instead when SGLANG_ROUTER_REQUIRE_K8S=1).
func cluster(t *testing.T) *k8stest.Cluster {
	t.Helper()
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		start := time.Now()
		shared.c, shared.err = k8stest.Start(ctx)
		if shared.err == nil {
			fmt.Fprintf(os.Stderr, "k8s test cluster up in %s\n", time.Since(start).Round(time.Millisecond))
		}
	})
	switch {
	case errors.Is(shared.err, k8stest.ErrMissing) && !k8stest.Required():
		t.Skipf("%v (set %s=1 to make this a failure)", shared.err, k8stest.RequireEnv)
	case shared.err != nil:
		t.Fatal(shared.err)
	}
	return shared.c
}

// env is what a test against the cluster needs: an admin, a namespace of
// its own and an admin kubeconfig for discovery.
type env struct {
	c          *k8stest.Cluster
	kube       *k8stest.Kube
	ns         string
	kubeconfig string
	ctx        context.Context
}

func newEnv(t *testing.T) *env {
	t.Helper()
	c := cluster(t)
	kube, err := c.Primary().Admin()
	if err != nil {
		t.Fatal(err)
	}
	ns := namespaceFor(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	if err := kube.EnsureNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	kc, err := c.Primary().WriteKubeconfig(ns, k8stest.AdminToken)
	if err != nil {
		t.Fatal(err)
	}
	return &env{c: c, kube: kube, ns: ns, kubeconfig: kc, ctx: ctx}
}

var notDNS = regexp.MustCompile(`[^a-z0-9-]+`)

// namespaceFor is a unique, valid namespace name derived from the test's.
func namespaceFor(t *testing.T) string {
	n := notDNS.ReplaceAllString(strings.ToLower(t.Name()), "-")
	n = fmt.Sprintf("t%d-%s", shared.ns.Add(1), n)
	if len(n) > 50 {
		n = n[:50]
	}
	return strings.TrimRight(n, "-")
}

// must fails the test on err.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// fastRetry keeps reconnection quick in tests.
func fastRetry(c Config) Config {
	c.RetryMin, c.RetryMax = 50*time.Millisecond, 500*time.Millisecond
	return c
}

// durations summarises latencies as p50 and max.
func durations(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return fmt.Sprintf("p50 %s, max %s over %d pods", s[len(s)/2].Round(time.Millisecond/10),
		s[len(s)-1].Round(time.Millisecond/10), len(s))
}
