package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sgl-project/sglang-router-go/go/config"
	"github.com/sgl-project/sglang-router-go/go/sim"
	"github.com/sgl-project/sglang-router-go/go/worker/workertest"
)

func TestGaugesAreCurrentFromTheFirstScrape(t *testing.T) {
	w0, w1 := workertest.New(t, "w0"), workertest.New(t, "w1")
	cfg := testConfig(w0.URL, w1.URL)
	cfg.Policy = "cache_aware"
	a, _ := startApp(t, cfg)
	waitUntil(t, "both workers healthy", func() bool {
		_, body := get(t, "http://"+a.Addr()+"/readiness")
		var r map[string]any
		_ = json.Unmarshal([]byte(body), &r)
		return r["healthy_workers"] == 2.0
	})
	_, metrics := get(t, "http://"+a.MetricsAddr()+"/metrics")
	for _, want := range []string{
		"sgl_router_active_workers 2",
		`sgl_router_tree_size{worker="` + w0.URL + `"} 0`,
		`sgl_router_tree_size{worker="` + w1.URL + `"} 0`,
		`sgl_router_worker_health{worker="` + w1.URL + `"} 1`,
		`sgl_router_running_requests{worker="` + w0.URL + `"} 0`,
		`sgl_router_worker_circuit_state{worker="` + w0.URL + `"} 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("first scrape lacks %q", want)
		}
	}
}

func TestIgnoredOptionsAreLoggedAtStartup(t *testing.T) {
	cfg := testConfig()
	cfg.ModelPath = "org/model"
	_, logs := startApp(t, cfg)
	if !strings.Contains(logs.String(), "model_path has no effect") {
		t.Errorf("logs lack the ignored option:\n%s", logs.String())
	}
}

func TestInFlightCountsRequestsBeingServed(t *testing.T) {
	w := workertest.New(t, "slow")
	w.Hang(true)
	a, _ := startApp(t, testConfig(w.URL))
	waitUntil(t, "worker healthy", func() bool { s, _ := get(t, "http://"+a.Addr()+"/readiness"); return s == 200 })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+a.Addr()+"/generate", strings.NewReader(`{"text":"x"}`))
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	waitUntil(t, "one request in flight", func() bool { return a.InFlight() == 1 })
	cancel()
	<-done
	waitUntil(t, "none in flight", func() bool { return a.InFlight() == 0 })
}

func TestMutualTLSToWorkers(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM, clientCert := selfSigned(t)
	certFile, keyFile := filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	must(t, os.WriteFile(certFile, certPEM, 0o600))
	must(t, os.WriteFile(keyFile, keyPEM, 0o600))

	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"text":"ok"}`))
	}))
	clients := x509.NewCertPool()
	clients.AddCert(clientCert)
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clients}
	srv.StartTLS()
	defer srv.Close()
	caFile := filepath.Join(dir, "ca.pem")
	must(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600))

	cfg := testConfig(srv.URL)
	cfg.ClientCertPath, cfg.ClientKeyPath, cfg.CACertPaths = certFile, keyFile, []string{caFile}
	cfg.WorkerModels = map[string]string{srv.URL: "m"} // the worker names no model
	a, _ := startApp(t, cfg)
	waitUntil(t, "TLS worker healthy", func() bool { s, _ := get(t, "http://"+a.Addr()+"/readiness"); return s == 200 })
	resp, err := http.Post("http://"+a.Addr()+"/generate", "application/json", strings.NewReader(`{"text":"hi"}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("generate through mTLS: %v %v", resp, err)
	}
	resp.Body.Close()

	cfg.CACertPaths = []string{filepath.Join(dir, "missing.pem")}
	if _, err := New(cfg, Options{}); err == nil || !strings.Contains(err.Error(), "ca_cert_paths") {
		t.Fatalf("unreadable CA file: %v", err)
	}
}

func selfSigned(t *testing.T) (certPEM, keyPEM []byte, cert *x509.Certificate) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "router"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	must(t, err)
	cert, err = x509.ParseCertificate(der)
	must(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	must(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), cert
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// The README's PD example lists one prefill server with a bootstrap port and
// one with "none". Against simulated servers whose decode side knows the
// default bootstrap port (as SGLang's --disaggregation-bootstrap-port),
// every request succeeds, on both prefill servers.
func TestPDWithNoneBootstrapPortAgainstTheSimulator(t *testing.T) {
	prefill := startSim(t, sim.Config{Role: sim.RolePrefill, Workers: 2, TimeScale: 0})
	ports := prefill.BootstrapPorts()
	decode := startSim(t, sim.Config{Role: sim.RoleDecode, Workers: 2, TimeScale: 0, DisaggregationBootstrapPort: ports[1]})
	cfg := testConfig()
	cfg.PDDisaggregation, cfg.Policy = true, config.PolicyRoundRobin
	p0 := ports[0]
	cfg.PrefillURLs = []config.PrefillURL{{URL: prefill.URLs()[0], BootstrapPort: &p0}, {URL: prefill.URLs()[1]}}
	cfg.DecodeURLs = decode.URLs()
	a, _ := startApp(t, cfg)
	ready(t, a)
	for i := range 6 {
		if s, b := post(t, "http://"+a.Addr()+"/generate", `{"text":"hello there `+string(rune('a'+i))+`","sampling_params":{"max_new_tokens":2}}`); s != 200 {
			t.Fatalf("request %d: %d %s", i, s, b)
		}
	}
	for i, st := range prefill.Stats() {
		if st.Requests == 0 {
			t.Errorf("prefill server %d got no request", i)
		}
	}
}

func TestJSONLogLinesAreAllJSONAtEveryLevel(t *testing.T) {
	for _, level := range []string{"debug", "info", "error", "critical"} {
		cfg := testConfig()
		cfg.JSONLog, cfg.LogLevel = true, level
		a, logs := startApp(t, cfg)
		_, _ = get(t, "http://"+a.Addr()+"/health")
		_ = a.Shutdown(context.Background())
		for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			if line != "" && !json.Valid([]byte(line)) {
				t.Errorf("log level %s: a line is not JSON: %q", level, line)
			}
		}
	}
}
