package discovery

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/homedir"
)

// errNoConfig: neither an in-cluster configuration nor a kubeconfig exists.
var errNoConfig = errors.New("no Kubernetes configuration found: not running in a pod " +
	"(KUBERNETES_SERVICE_HOST unset) and no kubeconfig ($KUBECONFIG or ~/.kube/config)")

// restConfig finds the API server: the explicit kubeconfig if one was
// given, else the in-cluster configuration, else $KUBECONFIG, else
// ~/.kube/config. It is read afresh on every attempt, so a kubeconfig
// written after start is picked up.
func restConfig(explicit string) (*rest.Config, error) {
	if explicit == "" {
		rc, err := rest.InClusterConfig()
		if err == nil {
			return tune(rc), nil
		}
		if !errors.Is(err, rest.ErrNotInCluster) {
			return nil, configError{fmt.Errorf("in-cluster configuration: %w", err)}
		}
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = explicit
	rules.MigrationRules = nil // never move files in the user's ~/.kube
	if os.Getenv(clientcmd.RecommendedConfigPathEnvVar) == "" {
		// Read $HOME now, not when client-go was initialised.
		rules.Precedence = []string{filepath.Join(homedir.HomeDir(), clientcmd.RecommendedHomeDir, clientcmd.RecommendedFileName)}
	}
	rc, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if clientcmd.IsEmptyConfig(err) {
		return nil, errNoConfig
	}
	if err != nil {
		return nil, configError{fmt.Errorf("kubeconfig: %w", err)}
	}
	return tune(rc), nil
}

// tune asks for protobuf (smaller and cheaper than JSON for pod lists) and
// names the client in the API server's logs.
func tune(rc *rest.Config) *rest.Config {
	rc.ContentType = "application/vnd.kubernetes.protobuf"
	rc.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	rc.UserAgent = "sglang-router"
	return rc
}
