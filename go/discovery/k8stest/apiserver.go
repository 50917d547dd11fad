package k8stest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"text/template"
	"time"

	"k8s.io/client-go/rest"
)

// APIServer is one kube-apiserver of a Cluster. Its port is fixed when it
// is made, so a kubeconfig for it can be written before it starts and
// stays valid across restarts.
type APIServer struct {
	c    *Cluster
	Port int
	name string
	p    *proc // nil while stopped
}

// NewAPIServer reserves a port for another API server over the cluster's
// etcd; it does not start it.
func (c *Cluster) NewAPIServer() (*APIServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &APIServer{c: c, Port: port, name: "apiserver-" + strconv.Itoa(port)}
	c.servers = append(c.servers, s)
	return s, nil
}

// URL is the server's https address.
func (s *APIServer) URL() string { return "https://127.0.0.1:" + strconv.Itoa(s.Port) }

// Start runs the server and waits until /readyz answers 200.
func (s *APIServer) Start(ctx context.Context) error {
	if s.p != nil {
		return fmt.Errorf("%s already running", s.name)
	}
	f := s.c.files
	p, err := startProc(s.c.bins.APIServer, []string{
		"--etcd-servers=" + s.c.etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port=" + strconv.Itoa(s.Port),
		"--tls-cert-file=" + f.cert, "--tls-private-key-file=" + f.key,
		"--token-auth-file=" + f.tokens, "--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + f.saKey, "--service-account-signing-key-file=" + f.saKey,
		"--service-cluster-ip-range=10.96.0.0/24",
		// No controller manager creates default service accounts, so the
		// admission plugin that requires one is off.
		"--disable-admission-plugins=ServiceAccount",
		// The "kubernetes" Service's endpoints would point at 127.0.0.1.
		"--endpoint-reconciler-type=none",
		"--cert-dir=" + filepath.Join(s.c.Dir, s.name+"-certs"),
		"--profiling=false",
	}, filepath.Join(s.c.Dir, s.name+".log"))
	if err != nil {
		return err
	}
	s.p = p
	err = waitHTTP(ctx, s.c.tlsClient(), s.URL()+"/readyz", AdminToken, p.exited, startTimeout)
	if err != nil {
		tail := p.tail(40)
		s.Stop()
		return fmt.Errorf("kube-apiserver: %w\n%s", err, tail)
	}
	return nil
}

// Stop ends the server as a rolling restart would (SIGTERM); Start runs it
// again on the same port. The server stops listening within a second or so
// but may linger for many more, so it is killed after 3s.
func (s *APIServer) Stop() {
	if s.p == nil {
		return
	}
	s.p.stop(3 * time.Second)
	s.p = nil
}

// Running reports whether the server was started and not stopped.
func (s *APIServer) Running() bool { return s.p != nil }

// LogTail is the end of the server's log, for failure messages.
func (s *APIServer) LogTail(lines int) string {
	return (&proc{logPath: filepath.Join(s.c.Dir, s.name+".log")}).tail(lines)
}

// RESTConfig reaches the server with a bearer token (AdminToken, or a
// service account's token from Cluster.ServiceAccountToken).
func (s *APIServer) RESTConfig(token string) *rest.Config {
	return &rest.Config{Host: s.URL(), BearerToken: token,
		TLSClientConfig: rest.TLSClientConfig{CAData: s.c.certPEM}, QPS: 200, Burst: 400}
}

var kubeconfigTmpl = template.Must(template.New("kubeconfig").Parse(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: {{.Server}}
    certificate-authority: {{.CA}}
users:
- name: test
  user:
    token: {{.Token}}
contexts:
- name: test
  context:
    cluster: test
    user: test
    namespace: {{.Namespace}}
current-context: test
`))

// WriteKubeconfig writes a kubeconfig for this server and token into the
// cluster's folder and returns its path.
func (s *APIServer) WriteKubeconfig(name, token string) (string, error) {
	path := filepath.Join(s.c.Dir, name+".kubeconfig")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return path, kubeconfigTmpl.Execute(f, map[string]string{
		"Server": s.URL(), "CA": s.c.files.cert, "Token": token, "Namespace": "default"})
}
