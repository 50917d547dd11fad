package h1

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/sgl-project/sglang-router-go/go/hdr"
)

// reqError is a request the server refuses: it answers status with msg
// and closes the connection.
type reqError struct {
	status int
	msg    string
}

func (e *reqError) Error() string { return e.msg }

func badRequest(msg string) *reqError { return &reqError{http.StatusBadRequest, msg} }

// errHandOver marks a request for the fallback server (see the package
// comment).
var errHandOver = &reqError{http.StatusNotImplemented, "unsupported request"}

// head is what the server itself needs of a request's headers, beyond the
// http.Request.
type head struct {
	chunked        bool
	contentLength  int64 // -1: none
	expectContinue bool
	keepAlive      bool // HTTP/1.0 "Connection: keep-alive"
}

// parseHead parses a header block (request line, header lines, empty line)
// into r, its URL u and its Header h (cleared first). All strings slice one
// copy of the block. vals is the backing store for h's values, returned
// for reuse.
func parseHead(block []byte, r *http.Request, u *url.URL, h http.Header, vals []string) (head, []string, error) {
	var hd head
	s := string(block)
	line, rest, _ := strings.Cut(s, "\n")
	if err := parseRequestLine(strings.TrimSuffix(line, "\r"), r, u); err != nil {
		return hd, vals, err
	}
	clear(h)
	vals = vals[:0]
	for {
		line, rest, _ = strings.Cut(rest, "\n")
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			break
		}
		key, val, err := splitHeader(line)
		if err != nil {
			return hd, vals, err
		}
		if cap(vals) > len(vals) {
			vals = append(vals, val)
			if old, dup := h[key]; dup {
				h[key] = append(old, val)
			} else {
				h[key] = vals[len(vals)-1 : len(vals) : len(vals)]
			}
		} else {
			h[key] = append(h[key], val) // the store is full: allocate
		}
	}
	r.Header = h
	hd, err := framing(r, h)
	return hd, vals, err
}

// parseRequestLine parses "METHOD target HTTP/1.x" into r and u.
func parseRequestLine(line string, r *http.Request, u *url.URL) error {
	method, rest, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || !validToken(method) {
		if method == "PRI" {
			return errHandOver // h2c prior knowledge
		}
		return badRequest("malformed request line")
	}
	switch proto {
	case "HTTP/1.1":
		r.Proto, r.ProtoMajor, r.ProtoMinor = proto, 1, 1
	case "HTTP/1.0":
		r.Proto, r.ProtoMajor, r.ProtoMinor = proto, 1, 0
	default:
		return errHandOver
	}
	if method == http.MethodConnect || target == "" || target[0] != '/' {
		return errHandOver
	}
	r.Method, r.RequestURI = method, target
	*u = url.URL{}
	if strings.IndexFunc(target, oddInPath) < 0 {
		u.Path, u.RawQuery, _ = strings.Cut(target, "?")
		r.URL = u
		return nil
	}
	parsed, err := url.ParseRequestURI(target)
	if err != nil {
		return badRequest("malformed request target")
	}
	*u = *parsed
	r.URL = u
	return nil
}

// oddInPath reports characters a request target needs url.ParseRequestURI
// for (escapes, fragments) or that it refuses (controls, non-ASCII).
func oddInPath(c rune) bool {
	return c == '%' || c == '#' || c <= ' ' || c >= 0x7f
}

// splitHeader splits "Name: value" into the canonical name and the value
// without surrounding blanks; it refuses invalid names and values.
func splitHeader(line string) (key, val string, err error) {
	name, v, ok := strings.Cut(line, ":")
	if !ok || !validToken(name) {
		return "", "", badRequest("malformed header line")
	}
	v = strings.Trim(v, " \t")
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return "", "", badRequest("invalid header value")
		}
	}
	return canonical(name), v, nil
}

// canonical is name in canonical form (net/http's), without allocating
// when it is canonical already or a common name.
func canonical(name string) string {
	if isCanonical(name) {
		return name
	}
	if len(name) <= 64 {
		var buf [64]byte
		b := hdr.AppendCanonical(buf[:0], name)
		if k, ok := commonKeys[string(b)]; ok {
			return k
		}
		return string(b)
	}
	return string(hdr.AppendCanonical(nil, name))
}

func isCanonical(name string) bool {
	upper := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		if upper && 'a' <= c && c <= 'z' || !upper && 'A' <= c && c <= 'Z' {
			return false
		}
		upper = c == '-'
	}
	return true
}

// commonKeys interns the header names clients commonly send lower-cased
// (HTTP/2-minded clients do).
var commonKeys = hdr.Interned("Host", "User-Agent", "Accept", "Accept-Encoding", "Content-Type", "Content-Length",
	"Connection", "Authorization", "X-Request-Id", "Transfer-Encoding", "Expect", "Origin", "Cookie", "Traceparent")

// validToken reports whether s is a non-empty RFC 9110 token.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// framing applies the message framing and connection rules to r: body
// length, Host, Expect, Connection, Upgrade. Request smuggling guards:
// Content-Length with Transfer-Encoding, differing Content-Lengths and
// any transfer coding but chunked are refused.
func framing(r *http.Request, h http.Header) (head, error) {
	hd := head{contentLength: -1}
	if _, up := h["Upgrade"]; up {
		return hd, errHandOver
	}
	hosts := h["Host"]
	switch {
	case len(hosts) > 1:
		return hd, badRequest("too many Host headers")
	case len(hosts) == 0 && r.ProtoMinor == 1:
		return hd, badRequest("missing required Host header")
	case len(hosts) == 1 && !validHost(hosts[0]):
		return hd, badRequest("malformed Host header")
	}
	if len(hosts) == 1 {
		r.Host = hosts[0]
		delete(h, "Host") // as net/http: the host is r.Host
	}
	var err error
	if hd.chunked, err = transferEncoding(h["Transfer-Encoding"]); err != nil {
		return hd, err
	}
	if hd.contentLength, err = contentLength(h["Content-Length"]); err != nil {
		return hd, err
	}
	if hd.chunked && hd.contentLength >= 0 {
		return hd, badRequest("both Transfer-Encoding and Content-Length")
	}
	if ex, ok := h["Expect"]; ok {
		if len(ex) != 1 || !strings.EqualFold(ex[0], "100-continue") {
			return hd, &reqError{http.StatusExpectationFailed, "unsupported Expect header"}
		}
		hd.expectContinue = r.ProtoMinor == 1
	}
	r.Close = hasToken(h["Connection"], "close")
	if r.ProtoMinor == 0 {
		hd.keepAlive = !r.Close && hasToken(h["Connection"], "keep-alive")
		r.Close = !hd.keepAlive
	}
	return hd, nil
}

// transferEncoding accepts no Transfer-Encoding or exactly "chunked".
func transferEncoding(te []string) (chunked bool, err error) {
	switch {
	case len(te) == 0:
		return false, nil
	case len(te) == 1 && strings.EqualFold(te[0], "chunked"):
		return true, nil
	}
	return false, &reqError{http.StatusNotImplemented, "unsupported transfer encoding"}
}

// contentLength is the body length the headers declare, -1 for none; all
// values must be the same number.
func contentLength(vals []string) (int64, error) {
	n := int64(-1)
	for _, v := range vals {
		m, err := strconv.ParseUint(v, 10, 63)
		if err != nil || v[0] == '+' {
			return 0, badRequest("bad Content-Length")
		}
		if n >= 0 && int64(m) != n {
			return 0, badRequest("differing Content-Lengths")
		}
		n = int64(m)
	}
	return n, nil
}

// hasToken reports whether the comma-separated values hold token.
func hasToken(vals []string, token string) bool {
	for _, v := range vals {
		for v != "" {
			var t string
			t, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(strings.Trim(t, " \t"), token) {
				return true
			}
		}
	}
	return false
}

// validHost accepts the characters of a host[:port], IPv6 literals and
// percent-escapes included.
func validHost(h string) bool {
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !isTokenChar(c) && strings.IndexByte("[]:@;=,()", c) < 0 {
			return false
		}
	}
	return true
}
