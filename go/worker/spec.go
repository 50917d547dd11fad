package worker

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// The worker-management error classes, the one set every caller tests with
// errors.Is: the router maps them to HTTP statuses, the C API to Python
// exceptions, discovery to log lines.
var (
	ErrExists      = errors.New("worker already exists")
	ErrNotFound    = errors.New("worker not found")
	ErrNotReady    = errors.New("worker not ready")
	ErrInvalidSpec = errors.New("invalid worker")
	// ErrBusy: too many workers are being added at once; try again later.
	ErrBusy = errors.New("too many workers being added at once")
)

// maxURLLen bounds a worker URL: it becomes a metrics label and a log field.
const maxURLLen = 2048

// Spec says which worker to add: its normalised URL, its role and, for a
// prefill worker, its bootstrap port. ParseSpec is the only way to make one
// from user input, so every path that adds a worker (configuration,
// /add_worker, the Python API, Kubernetes discovery) applies the same URL
// rules and two spellings of one server name one worker.
type Spec struct {
	URL           string
	Role          Role
	BootstrapPort *int // prefill only; nil means "none"
	// Model, when set, is the model the worker serves as the operator
	// gave it (checked by CheckModelName); else it is learned on joining.
	Model string
}

// ParseSpec checks a worker's description and normalises its URL (see
// NormalizeURL). A bootstrap port must be a TCP port and belongs to prefill
// workers only. Every error wraps ErrInvalidSpec.
func ParseSpec(rawURL string, role Role, bootstrapPort *int) (Spec, error) {
	u, err := NormalizeURL(rawURL)
	if err != nil {
		return Spec{}, err
	}
	if bootstrapPort != nil {
		if p := *bootstrapPort; p < 1 || p > 65535 {
			return Spec{}, fmt.Errorf("%w: Invalid bootstrap port: %d. Must be a number or 'none'", ErrInvalidSpec, p)
		}
		if role != Prefill {
			return Spec{}, fmt.Errorf("%w: a bootstrap port belongs to prefill workers only (%s is %s)", ErrInvalidSpec, u, role)
		}
		port := *bootstrapPort // the Spec owns its copy
		bootstrapPort = &port
	}
	return Spec{URL: u, Role: role, BootstrapPort: bootstrapPort}, nil
}

// ParseRole reads "regular" (or ""), "prefill" or "decode".
func ParseRole(s string) (Role, error) {
	switch s {
	case "", "regular":
		return Regular, nil
	case "prefill":
		return Prefill, nil
	case "decode":
		return Decode, nil
	}
	return 0, fmt.Errorf("%w: role must be regular, prefill or decode, got %q", ErrInvalidSpec, s)
}

// NormalizeURL is where the rules for worker URLs live. It accepts absolute
// http and https URLs with a host, and returns the canonical spelling:
// scheme and host lower case, IP addresses in their canonical form, the
// port explicit (80 and 443 by default), an optional path prefix without
// trailing slashes. So "HTTP://Host:80/", "http://host" and "http://host:80"
// are one worker, "http://host:80". It rejects credentials (they would leak
// into /list_workers, metrics labels and logs; the router authenticates to
// workers with --api-key), queries and fragments (the router appends request
// paths to the URL). grpc:// and grpcs:// URLs (the original router's gRPC
// mode) are refused with a message that says so. Every error wraps
// ErrInvalidSpec.
func NormalizeURL(raw string) (string, error) {
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("%w: URL %q: %s", ErrInvalidSpec, quotable(raw), why)
	}
	if raw == "" {
		return bad("empty")
	}
	if len(raw) > maxURLLen {
		return bad(fmt.Sprintf("longer than %d bytes", maxURLLen))
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return bad(err.Error())
	}
	switch {
	case u.Scheme == "grpc" || u.Scheme == "grpcs":
		return bad("grpc:// workers (the original router's gRPC mode) are not supported; this router speaks HTTP to SGLang workers")
	case u.Scheme != "http" && u.Scheme != "https":
		return bad("scheme must be http or https")
	case u.Opaque != "" || u.Host == "":
		return bad("missing host (use http://host:port)")
	case u.User != nil:
		return bad("credentials (user:password@) are not allowed; the router authenticates to workers with --api-key (a data-parallel rank, URL@R, is added and removed with its server's URL)")
	case u.RawQuery != "" || u.ForceQuery:
		return bad("a query (?...) is not allowed")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return bad("a fragment (#...) is not allowed")
	}
	host, err := normalHost(u.Hostname())
	if err != nil {
		return bad(err.Error())
	}
	port, err := normalPort(u.Port(), u.Scheme)
	if err != nil {
		return bad(err.Error())
	}
	return u.Scheme + "://" + net.JoinHostPort(host, port) + strings.TrimRight(u.EscapedPath(), "/"), nil
}

// normalHost lower-cases a host name (dropping a final root dot) and gives
// an IP address its canonical form, with an IPv6 zone escaped for a URL.
func normalHost(h string) (string, error) {
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	if h == "" {
		return "", errors.New("missing host (use http://host:port)")
	}
	if ip, err := netip.ParseAddr(h); err == nil {
		return strings.Replace(ip.String(), "%", "%25", 1), nil
	}
	if strings.ContainsAny(h, ":%") {
		return "", fmt.Errorf("host %q is neither a name nor an IP address", h)
	}
	return h, nil
}

// normalPort returns the port in decimal, the scheme's default when empty.
func normalPort(p, scheme string) (string, error) {
	if p == "" {
		if scheme == "https" {
			return "443", nil
		}
		return "80", nil
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("port %s is not a TCP port (1-65535)", p)
	}
	return strconv.Itoa(n), nil
}

// HostPort splits a normalised worker URL into its host (an IPv6 address
// without brackets or zone escape) and port.
func HostPort(normalized string) (host string, port int, err error) {
	u, err := url.Parse(normalized)
	if err != nil {
		return "", 0, err
	}
	port, err = strconv.Atoi(u.Port())
	return u.Hostname(), port, err
}

// quotable is what an error message may quote of a rejected URL: without
// credentials (they would reach logs and tracebacks) and at most 200 bytes
// of hostile input.
func quotable(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		auth := s[i+3:]
		if end := strings.IndexAny(auth, "/?#"); end >= 0 {
			auth = auth[:end]
		}
		if at := strings.LastIndex(auth, "@"); at >= 0 {
			s = s[:i+3] + "REDACTED" + s[i+3+at:]
		}
	}
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

// Admission says how a new worker enters rotation.
type Admission uint8

const (
	// AfterCheck: the worker joins unhealthy; the health checker admits it
	// after its first passing check.
	AfterCheck Admission = iota
	// WhenHealthy: adding waits until the worker's /health answers 2xx (up
	// to the startup timeout), then it joins healthy.
	WhenHealthy
	// Vouched: the worker joins healthy at once because the caller vouches
	// for it (Kubernetes: the pod is Ready); health checks still take it out
	// of rotation if it fails them.
	Vouched
)
