package k8stest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// startTimeout bounds one process's start (a cold API server bootstraps its
// RBAC roles into etcd first; on 2 busy cores that takes a while).
const startTimeout = 90 * time.Second

// Cluster is etcd plus API servers sharing it. Several API servers over one
// etcd is how Kubernetes runs highly available: each sees the same cluster,
// so a test can stop the one a watcher uses and keep changing pods through
// another. Safe for use by one test goroutine at a time.
type Cluster struct {
	Dir     string // scratch folder: certificates, tokens, logs, etcd data
	bins    Binaries
	etcd    *proc
	etcdURL string
	certPEM []byte
	files   struct{ cert, key, saKey, tokens string }
	primary *APIServer
	servers []*APIServer // every server made, stopped by Close
}

// Start runs etcd and the primary API server. Close it when done.
func Start(ctx context.Context) (c *Cluster, err error) {
	bins, err := Find()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "sglang-k8stest-")
	if err != nil {
		return nil, err
	}
	c = &Cluster{Dir: dir, bins: bins}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	if err := c.writeFiles(); err != nil {
		return nil, err
	}
	if err := c.startEtcd(ctx); err != nil {
		return nil, err
	}
	if c.primary, err = c.NewAPIServer(); err != nil {
		return nil, err
	}
	return c, c.primary.Start(ctx)
}

func (c *Cluster) writeFiles() error {
	cert, key, err := servingCert()
	if err != nil {
		return err
	}
	sa, err := signingKey()
	if err != nil {
		return err
	}
	c.certPEM = cert
	c.files.cert, c.files.key = filepath.Join(c.Dir, "serving.crt"), filepath.Join(c.Dir, "serving.key")
	c.files.saKey, c.files.tokens = filepath.Join(c.Dir, "sa.key"), filepath.Join(c.Dir, "tokens.csv")
	tokens := fmt.Sprintf("%s,admin,admin-uid,\"system:masters\"\n", AdminToken)
	for path, data := range map[string][]byte{c.files.cert: cert, c.files.key: key, c.files.saKey: sa, c.files.tokens: []byte(tokens)} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cluster) startEtcd(ctx context.Context) error {
	client, err := freePort()
	if err != nil {
		return err
	}
	peer, err := freePort()
	if err != nil {
		return err
	}
	c.etcdURL = "http://127.0.0.1:" + strconv.Itoa(client)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(peer)
	c.etcd, err = startProc(c.bins.Etcd, []string{
		"--name=default", "--data-dir=" + filepath.Join(c.Dir, "etcd"),
		"--listen-client-urls=" + c.etcdURL, "--advertise-client-urls=" + c.etcdURL,
		"--listen-peer-urls=" + peerURL, "--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=default=" + peerURL, "--logger=zap", "--log-level=warn",
	}, filepath.Join(c.Dir, "etcd.log"))
	if err != nil {
		return err
	}
	if err := waitHTTP(ctx, http.DefaultClient, c.etcdURL+"/health", "", c.etcd.exited, startTimeout); err != nil {
		return fmt.Errorf("etcd: %w\n%s", err, c.etcd.tail(30))
	}
	return nil
}

// Close stops every process and removes the scratch folder.
func (c *Cluster) Close() {
	for _, s := range c.servers {
		s.Stop()
	}
	if c.etcd != nil {
		c.etcd.stop(5 * time.Second)
	}
	_ = os.RemoveAll(c.Dir)
}

// Primary is the API server Start started; tests use it to change pods.
func (c *Cluster) Primary() *APIServer { return c.primary }

// tlsClient trusts the cluster's serving certificate.
func (c *Cluster) tlsClient() *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.certPEM)
	return &http.Client{Timeout: 5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}
