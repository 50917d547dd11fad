package router

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"sync/atomic"
)

// idSource makes request ids: a random per-router prefix and a counter, so
// generating one costs an atomic add and a small string, not a syscall.
type idSource struct {
	prefix string
	next   atomic.Uint64
}

func newIDSource() *idSource {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return &idSource{prefix: hex.EncodeToString(b[:]) + "-"}
}

func (s *idSource) generate() string {
	return s.prefix + strconv.FormatUint(s.next.Add(1), 36)
}

// maxRequestIDLen bounds a client-chosen request id: it is echoed,
// forwarded and logged, so a huge or binary one would cost every hop.
const maxRequestIDLen = 128

// requestID takes the id from the first configured header present, else
// generates one. An id longer than maxRequestIDLen or holding anything but
// printable ASCII is replaced by a fresh one.
func (rt *Router) requestID(r *http.Request) string {
	for _, h := range rt.idHeaders {
		if v := r.Header[h]; len(v) > 0 && v[0] != "" {
			if validRequestID(v[0]) {
				return v[0]
			}
			break
		}
	}
	return rt.ids.generate()
}

func validRequestID(v string) bool {
	if len(v) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return false
		}
	}
	return true
}
