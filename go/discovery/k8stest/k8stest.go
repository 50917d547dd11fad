// Package k8stest runs a real Kubernetes control plane for tests: etcd and
// one or more kube-apiservers on loopback, with static-token and
// service-account authentication and RBAC authorization. There is no
// kubelet, scheduler or controller manager: tests write pod status
// themselves (see pods.go).
//
// Binaries: kube-apiserver from $SGLANG_ROUTER_KUBE_APISERVER or the cache
// of scripts/k8s/get-kube-apiserver.sh; etcd from $SGLANG_ROUTER_ETCD or
// PATH. Tests skip when they are missing, unless SGLANG_ROUTER_REQUIRE_K8S=1
// (CI), where they fail.
package k8stest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"time"
)

// AdminToken authenticates as a member of system:masters.
const AdminToken = "sglang-router-test-admin"

// RequireEnv, set to 1, turns "binaries missing" from a skip into a failure.
const RequireEnv = "SGLANG_ROUTER_REQUIRE_K8S"

// Binaries are the programs a Cluster runs.
type Binaries struct{ APIServer, Etcd string }

// ErrMissing means a binary was not found; the message says how to get it.
var ErrMissing = errors.New("Kubernetes test binaries missing: run scripts/k8s/get-kube-apiserver.sh " +
	"(builds kube-apiserver into ~/.cache/sglang-router and installs Debian's etcd-server)")

// Find locates the binaries.
func Find() (Binaries, error) {
	var b Binaries
	b.APIServer = os.Getenv("SGLANG_ROUTER_KUBE_APISERVER")
	if b.APIServer == "" {
		b.APIServer = newestCached("kube-apiserver-v*")
	}
	b.Etcd = os.Getenv("SGLANG_ROUTER_ETCD")
	if b.Etcd == "" {
		b.Etcd, _ = exec.LookPath("etcd")
	}
	for _, p := range []string{b.APIServer, b.Etcd} {
		if st, err := os.Stat(p); p == "" || err != nil || st.IsDir() {
			return b, ErrMissing
		}
	}
	return b, nil
}

// ErrHelmMissing means the helm binary was not found.
var ErrHelmMissing = errors.New("helm missing: run scripts/k8s/get-helm.sh (builds helm into ~/.cache/sglang-router)")

// FindHelm locates the helm binary: $SGLANG_ROUTER_HELM, else the newest
// one scripts/k8s/get-helm.sh left in its cache.
func FindHelm() (string, error) {
	p := os.Getenv("SGLANG_ROUTER_HELM")
	if p == "" {
		p = newestCached("helm-v*")
	}
	if st, err := os.Stat(p); p == "" || err != nil || st.IsDir() {
		return "", ErrHelmMissing
	}
	return p, nil
}

// newestCached is the newest binary matching pattern that a build script
// left in its cache.
func newestCached(pattern string) string {
	cache := os.Getenv("SGLANG_ROUTER_K8S_CACHE")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "sglang-router")
	}
	found, _ := filepath.Glob(filepath.Join(cache, pattern))
	sort.Slice(found, func(i, j int) bool { return modTime(found[i]).After(modTime(found[j])) })
	for _, f := range found {
		if filepath.Ext(f) != ".tmp" {
			return f
		}
	}
	return ""
}

func modTime(p string) time.Time {
	st, err := os.Stat(p)
	if err != nil {
		return time.Time{}
	}
	return st.ModTime()
}

// Required reports whether missing binaries must fail the tests.
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// freePort asks the kernel for a free loopback port. Another process could
// take it before it is used; the callers retry their start on failure.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitHTTP polls url until ok returns true for its answer, the process
// exits, or the timeout passes.
func waitHTTP(ctx context.Context, client *http.Client, url, token string, exited <-chan struct{}, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last string
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = "status " + strconv.Itoa(resp.StatusCode)
		} else {
			last = err.Error()
		}
		select {
		case <-exited:
			return fmt.Errorf("process exited before %s answered", url)
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %s (last: %s)", url, timeout, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
