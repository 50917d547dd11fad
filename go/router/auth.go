package router

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// access says who may call a route.
//
//   - openAccess: anyone (health, liveness, readiness: probes carry no key).
//   - clientAccess: the request routes (generation and the informational
//     routes a client's SDK calls, e.g. /v1/models). With --client-api-keys
//     a client must present one of them; its Authorization header is then
//     removed before forwarding, so workers see the router's --api-key (if
//     any) and never a client's key.
//   - adminAccess: /add_worker, /remove_worker and /flush_cache change what
//     the router does; /list_workers and /get_loads too, because they
//     disclose the worker addresses (where prompts and the router's
//     --api-key go) and /get_loads makes the router call every worker, which
//     an anonymous caller could repeat to load them all. With
//     --admin-api-key they demand it. CORS never applies to them (see
//     ServeHTTP), and a request a web page on another origin made (its
//     Origin header names another host) is refused even without a key: the
//     browser sends such a "simple" POST without asking first, so refusing
//     it is what keeps a web page from adding a worker.
type access uint8

const (
	openAccess access = iota
	clientAccess
	adminAccess
)

var (
	errForbiddenOrigin = errors.New("admin routes cannot be called from a web page on another origin")
	errAdminKey        = fmt.Errorf("%w: this route needs the admin key: send Authorization: Bearer <admin key>", ErrUnauthorized)
	errClientKey       = fmt.Errorf("%w: missing or invalid API key: send Authorization: Bearer <key>", ErrUnauthorized)
)

// keyring holds the SHA-256 digests of the accepted keys. Comparing
// digests, each in constant time and all of them every time, tells a caller
// nothing through timing: neither how much of a key matched nor its length.
type keyring [][sha256.Size]byte

func newKeyring(keys ...string) keyring {
	var k keyring
	for _, key := range keys {
		if key != "" {
			k = append(k, sha256.Sum256([]byte(key)))
		}
	}
	return k
}

// allows reports whether r carries "Authorization: Bearer <one of the keys>".
func (k keyring) allows(r *http.Request) bool {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	match := 0
	for i := range k {
		match |= subtle.ConstantTimeCompare(got[:], k[i][:])
	}
	return match == 1
}

// authorize applies the route's access rule to r. On success for a client
// route it removes the client's key from r, which is then forwarded.
func (rt *Router) authorize(r *http.Request, a access) error {
	switch {
	case a == adminAccess && crossOrigin(r):
		return errForbiddenOrigin
	case a == adminAccess && len(rt.admin) > 0 && !rt.admin.allows(r):
		return errAdminKey
	case a == clientAccess && len(rt.clients) > 0:
		if !rt.clients.allows(r) {
			return errClientKey
		}
		r.Header.Del("Authorization")
	}
	return nil
}

// crossOrigin reports whether a browser sent r on behalf of a page of
// another origin: its Origin header is set and names another host than
// the one r was sent to ("null", a sandboxed or local page, included).
func crossOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	return err != nil || !strings.EqualFold(u.Host, r.Host)
}

// writeAuthError answers a refused request: 403 for a foreign origin, else
// 401 with the challenge RFC 6750 asks for.
func writeAuthError(w http.ResponseWriter, err error) int {
	if errors.Is(err, errForbiddenOrigin) {
		return writeErrorStatus(w, http.StatusForbidden, err.Error())
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="sglang-router"`)
	return writeError(w, err)
}
