package discovery

import (
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// connState is what discovery last told the operator about its link to the
// API server. Logging only its changes keeps an outage to one warning
// (later failures of the same kind log at debug level).
type connState struct {
	kind connKind
	msg  string
}

type connKind int

const (
	connStarting connKind = iota
	connUp
	connNoConfig
	connBadConfig
	connUnreachable
	connForbidden
	connUnauthorized
	connFailing
)

// configError wraps a configuration that exists but cannot be used.
type configError struct{ err error }

func (e configError) Error() string { return e.err.Error() }
func (e configError) Unwrap() error { return e.err }

func kindOf(err error) connKind {
	var ce configError
	var status apierrors.APIStatus
	switch {
	case errors.Is(err, errNoConfig):
		return connNoConfig
	case errors.As(err, &ce):
		return connBadConfig
	case apierrors.IsForbidden(err):
		return connForbidden
	case apierrors.IsUnauthorized(err):
		return connUnauthorized
	case errors.As(err, &status):
		return connFailing
	}
	return connUnreachable // transport errors: refused, timeout, TLS, DNS
}

// hint is the operator-facing message for a failure of kind k.
func (d *Discovery) hint(k connKind) string {
	switch k {
	case connNoConfig:
		return "service discovery has no Kubernetes API server to watch; serving the configured workers only, retrying"
	case connBadConfig:
		return "service discovery cannot use the Kubernetes configuration; retrying"
	case connUnreachable:
		return "service discovery cannot reach the Kubernetes API server; keeping the current workers, retrying"
	case connForbidden:
		return "service discovery is not allowed to watch pods: " + d.rbacHint() + "; retrying"
	case connUnauthorized:
		return "the Kubernetes API server rejected service discovery's credentials; retrying"
	}
	return "service discovery cannot list pods; retrying"
}

func (d *Discovery) rbacHint() string {
	if d.cfg.Namespace == "" {
		return "watching all namespaces needs a ClusterRole with get, list and watch on pods, bound to the router's service account"
	}
	return fmt.Sprintf("the router's service account needs a Role with get, list and watch on pods in namespace %q, and a RoleBinding", d.cfg.Namespace)
}

// reportFailure logs a failed attempt: a warning when the kind of failure
// (or, for unclassified ones, the message) changed, else at debug level.
func (d *Discovery) reportFailure(err error, retryIn time.Duration) {
	if err == nil {
		err = errors.New("watch ended")
	}
	k := kindOf(err)
	next := connState{kind: k}
	if k == connFailing || k == connBadConfig {
		next.msg = err.Error()
	}
	msg := d.hint(k)
	fields := []zap.Field{zap.Error(err), zap.Duration("retry_in", retryIn), zap.Int("discovered_workers", len(d.added))}
	if next == d.conn {
		d.log.Debug(msg, fields...)
		return
	}
	d.conn = next
	d.log.Warn(msg, fields...)
}

// reportUp logs that discovery reached the API server, once per recovery.
func (d *Discovery) reportUp(server string, pods int) {
	if d.conn.kind == connUp {
		return
	}
	msg := "service discovery watching pods"
	if d.wasUp {
		msg = "service discovery reconnected; watching pods"
	}
	d.conn, d.wasUp = connState{kind: connUp}, true
	d.log.Info(msg, append(d.watchFields(), zap.String("server", server), zap.Int("pods_listed", pods))...)
}
