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

// requestID takes the id from the first configured header present, else
// generates one.
func (rt *Router) requestID(r *http.Request) string {
	for _, h := range rt.idHeaders {
		if v := r.Header[h]; len(v) > 0 && v[0] != "" {
			return v[0]
		}
	}
	return rt.ids.generate()
}
