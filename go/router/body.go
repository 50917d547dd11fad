package router

import (
	"fmt"
	"io"
	"math/bits"
	"net/http"
	"sync"
)

// readBody reads the whole request body, refusing more than limit bytes
// (ErrTooLarge) before reading them when Content-Length tells.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, fmt.Errorf("%w: %d bytes exceeds the limit of %d", ErrTooLarge, r.ContentLength, limit)
	}
	if r.ContentLength >= 0 {
		buf := bodyBuffer(r.ContentLength)
		if _, err := io.ReadFull(r.Body, buf); err != nil {
			return nil, fmt.Errorf("%w: reading body: %v", ErrBadRequest, err)
		}
		r.Body.Close() // read whole: spares net/http its discard pass before the answer
		return buf, nil
	}
	buf, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading body: %v", ErrBadRequest, err)
	}
	if int64(len(buf)) > limit {
		return nil, fmt.Errorf("%w: body exceeds the limit of %d bytes", ErrTooLarge, limit)
	}
	return buf, nil
}

// Buffers of large bodies are recycled: a fresh 400 KB buffer per request
// costs its zeroing and, above all, a garbage collection every few dozen
// requests. Sizes are classes of powers of two, from pooledFrom to
// pooledUpTo; sync.Pool drops what stays unused across collections, so the
// pools hold no more than recent traffic needs.
const (
	pooledFromBits = 16 // 64 KiB
	pooledUpToBits = 26 // 64 MiB
)

var bodyPools [pooledUpToBits + 1]sync.Pool

// bodyClass is the pool of a body of n bytes (a power-of-two class), or
// -1 when such bodies are not pooled.
func bodyClass(n int64) int {
	if n < 1<<pooledFromBits || n > 1<<pooledUpToBits {
		return -1
	}
	return bits.Len64(uint64(n - 1))
}

// bodyBuffer returns a buffer of n bytes, pooled for large n. Its content
// is whatever the last user left: the caller overwrites it whole.
func bodyBuffer(n int64) []byte {
	c := bodyClass(n)
	if c < 0 {
		return make([]byte, n)
	}
	if b, ok := bodyPools[c].Get().(*[]byte); ok {
		return (*b)[:n]
	}
	return make([]byte, n, 1<<c)
}

// releaseBody gives a body read by readBody back to its pool. The caller
// must hold no reference to it, nor have given one to anything that
// outlives the call (the upstream client does not keep it; see proxy.Send).
func releaseBody(b []byte) {
	c := bodyClass(int64(cap(b)))
	if c < 0 || cap(b) != 1<<c {
		return
	}
	keep := b[:0] // escapes to the pool: declared here, not at entry, so small bodies cost nothing
	bodyPools[c].Put(&keep)
}
