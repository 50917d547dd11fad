package app

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"go.uber.org/zap"

	"github.com/sgl-project/sglang-router-go/go/worker"
)

// Addresses. A worker URL that names this router would make every request
// it gets forward to the router again, until the file descriptors run out.
// The router refuses the direct case: the host and port it listens on, and,
// when it listens on a wildcard address (0.0.0.0, ::), any address of this
// machine (loopback, an interface address, the unspecified address, or a
// name resolving to one) with its port. Loops through other aliases (a
// proxy, a NAT) are caught on the request path by a hop header.

// checkReachable resolves the worker's host and refuses this router's own
// address (ErrInvalidSpec). A host that does not resolve is ErrNotReady
// when the caller waits for the worker's health (it could only time out);
// otherwise it is logged and the health checks keep trying.
func (a *App) checkReachable(ctx context.Context, url string, how worker.Admission) error {
	host, port, err := worker.HostPort(url)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", worker.ErrInvalidSpec, url, err)
	}
	addrs, err := a.resolve(ctx, host)
	switch {
	case err != nil && how == worker.WhenHealthy:
		return fmt.Errorf("%w: %s: host %q does not resolve: %v", worker.ErrNotReady, url, host, err)
	case err != nil:
		a.log.Warn("worker host does not resolve (yet); health checks keep trying", zap.String("worker", url), zap.Error(err))
	case a.isSelf(addrs, port):
		return fmt.Errorf("%w: %s is this router's own address (it listens on %s); it would send requests to itself",
			worker.ErrInvalidSpec, url, a.Addr())
	}
	return nil
}

// resolve returns the addresses host stands for: itself when it is an IP
// address, loopback for localhost, else the DNS answer (bounded by the
// health-check timeout).
func (a *App) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip.Unmap()}, nil
	}
	if literalHost(host) { // localhost: RFC 6761 reserves it for loopback
		return []netip.Addr{netip.IPv6Loopback(), netip.AddrFrom4([4]byte{127, 0, 0, 1})}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, a.checker.Timeout)
	defer cancel()
	addrs, err := a.lookupHost(ctx, host)
	for i := range addrs {
		addrs[i] = addrs[i].Unmap()
	}
	return addrs, err
}

// isSelf reports whether any of addrs with port reaches this router. It is
// false before the router listens.
func (a *App) isSelf(addrs []netip.Addr, port int) bool {
	if a.ln == nil {
		return false
	}
	listen, ok := a.ln.Addr().(*net.TCPAddr)
	if !ok || listen.Port != port {
		return false
	}
	own, _ := netip.AddrFromSlice(listen.IP)
	own = own.Unmap()
	for _, ip := range addrs {
		local := ip.IsLoopback() || ip.IsUnspecified() // 0.0.0.0 and :: connect to this machine
		switch {
		case ip == own.WithZone(ip.Zone()):
			return true
		case own.IsUnspecified() && (local || isInterfaceAddr(ip)):
			return true
		case own.IsLoopback() && ip.IsUnspecified():
			return true
		}
	}
	return false
}

// isInterfaceAddr reports whether ip is assigned to one of this machine's
// network interfaces.
func isInterfaceAddr(ip netip.Addr) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if own, ok := netip.AddrFromSlice(n.IP); ok && own.Unmap() == ip.WithZone("") {
				return true
			}
		}
	}
	return false
}

// literalHost reports whether resolving host needs no network: an IP
// address or localhost.
func literalHost(host string) bool {
	_, err := netip.ParseAddr(host)
	return err == nil || host == "localhost" || strings.HasSuffix(host, ".localhost")
}

// configField names the configuration field that lists workers of role.
func configField(role worker.Role) string {
	switch role {
	case worker.Prefill:
		return "prefill_urls"
	case worker.Decode:
		return "decode_urls"
	}
	return "worker_urls"
}
