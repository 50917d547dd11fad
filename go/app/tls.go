package app

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/sgl-project/sglang-router-go/go/config"
)

// workerTLS is the TLS configuration towards https:// workers: the client
// certificate (mTLS) and extra CAs, if configured; nil means Go's defaults.
// A file that cannot be read or parsed is a configuration error naming it.
func workerTLS(cfg config.Config) (*tls.Config, error) {
	if cfg.ClientCertPath == "" && len(cfg.CACertPaths) == 0 {
		return nil, nil
	}
	t := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.ClientCertPath != "" {
		cert, err := tls.LoadX509KeyPair(cfg.ClientCertPath, cfg.ClientKeyPath)
		if err != nil {
			return nil, fmt.Errorf("client_cert_path/client_key_path: %v", err)
		}
		t.Certificates = []tls.Certificate{cert}
	}
	if len(cfg.CACertPaths) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		for _, p := range cfg.CACertPaths {
			pem, err := os.ReadFile(p)
			if err != nil {
				return nil, fmt.Errorf("ca_cert_paths: %v", err)
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("ca_cert_paths: %s holds no PEM certificate", p)
			}
		}
		t.RootCAs = pool
	}
	return t, nil
}
