package router

import (
	"errors"
	"fmt"
	"io"
	"math/bits"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sgl-project/sglang-router-go/go/mono"
)

// chunkSize is the unit bodies are read and accounted in. A connection that
// announced a body but sent nothing holds one chunk, never its
// Content-Length: memory follows the bytes that arrived.
const chunkSize = 32 << 10

// chunks recycles read buffers across requests.
var chunks = sync.Pool{New: func() any { return new([chunkSize]byte) }}

// bodyBudget caps the bytes buffered across all request bodies being read or
// held at once, so many clients announcing large bodies cannot make the
// router hold many times max_payload_size. Safe for concurrent use.
type bodyBudget struct {
	max  int64 // <= 0: no cap
	used atomic.Int64
}

// take reserves n bytes, or fails with ErrBodyBudget and reserves nothing.
func (b *bodyBudget) take(n int64) error {
	if b.max <= 0 {
		return nil
	}
	if b.used.Add(n) > b.max {
		b.used.Add(-n)
		return fmt.Errorf("%w: the router is buffering %d bytes of request bodies already", ErrBodyBudget, b.max)
	}
	return nil
}

func (b *bodyBudget) give(n int64) {
	if b.max > 0 && n > 0 {
		b.used.Add(-n)
	}
}

// bodyReader reads one request body within a size limit, a deadline and
// the shared budget.
type bodyReader struct {
	limit    int64
	timeout  time.Duration // <= 0: no deadline
	budget   *bodyBudget
	reserved int64
	parts    []*[chunkSize]byte
	size     int64
	inline   [4]*[chunkSize]byte // parts' first backing array: no allocation below 128 KiB
}

// readBody reads the whole request body as its bytes arrive, into pooled
// chunks, then copies it into one slice of the size actually read. It never
// allocates by an unread Content-Length. Errors: ErrTooLarge (413) past
// limit, ErrBodyTimeout (408) past the read deadline, ErrBodyBudget (429)
// when the router-wide buffer budget is spent, ErrBadRequest otherwise. The
// caller must give the reserved bytes back to rt.bodies once it no longer
// uses the body (also on error).
func (rt *Router) readBody(w http.ResponseWriter, r *http.Request) (body []byte, reserved int64, err error) {
	br := bodyReader{limit: rt.opts.MaxPayloadSize, timeout: rt.opts.BodyReadTimeout, budget: rt.bodies}
	br.parts = br.inline[:0]
	if r.ContentLength > br.limit {
		return nil, 0, fmt.Errorf("%w: %d bytes exceeds the limit of %d", ErrTooLarge, r.ContentLength, br.limit)
	}
	if br.timeout > 0 {
		rc := http.NewResponseController(w)
		if rc.SetReadDeadline(mono.Now().Add(br.timeout)) == nil {
			defer func() {
				// A deadline left behind would make net/http's background
				// read fail and cancel the request while it is forwarded.
				if err == nil {
					_ = rc.SetReadDeadline(time.Time{})
				}
			}()
		}
	}
	defer br.recycle()
	if err := br.read(r.Body); err != nil {
		// Never read the rest: net/http would otherwise try to drain the
		// unread body (without a deadline, for ever) before answering.
		w.Header().Set("Connection", "close")
		return nil, br.reserved, err
	}
	r.Body.Close() // read whole: spares net/http its discard pass before the answer
	return br.join(), br.reserved, nil
}

// read fills chunks from src until EOF.
func (br *bodyReader) read(src io.Reader) error {
	for {
		if br.size%chunkSize == 0 {
			if err := br.grow(); err != nil {
				return err
			}
		}
		last := br.parts[len(br.parts)-1]
		n, err := src.Read(last[br.size%chunkSize:])
		br.size += int64(n)
		if br.size > br.limit {
			return fmt.Errorf("%w: body exceeds the limit of %d bytes", ErrTooLarge, br.limit)
		}
		switch {
		case err == io.EOF:
			return nil
		case errors.Is(err, os.ErrDeadlineExceeded):
			return fmt.Errorf("%w: no complete body within %s", ErrBodyTimeout, br.timeout)
		case err != nil:
			return fmt.Errorf("%w: reading body: %v", ErrBadRequest, err)
		}
	}
}

// grow reserves and adds one chunk.
func (br *bodyReader) grow() error {
	if err := br.budget.take(chunkSize); err != nil {
		return err
	}
	br.reserved += chunkSize
	br.parts = append(br.parts, chunks.Get().(*[chunkSize]byte))
	return nil
}

// join copies the chunks into one slice of exactly the bytes read (a
// recycled one for large bodies: see bodyBuffer). The reservation stays
// until release: the slice lives as long as the request.
func (br *bodyReader) join() []byte {
	out := bodyBuffer(br.size)
	for i, p := range br.parts {
		copy(out[int64(i)*chunkSize:], p[:])
	}
	return out
}

func (br *bodyReader) recycle() {
	for _, p := range br.parts {
		chunks.Put(p)
	}
	br.parts = nil
}

// readRequest checks r's hop count (see hops) and reads its body (see
// readBody: the caller gives reserved back to rt.bodies, also on error).
func (rt *Router) readRequest(w http.ResponseWriter, r *http.Request) (hopCount int, body []byte, reserved int64, err error) {
	if hopCount, err = hops(r); err != nil {
		return 0, nil, 0, err
	}
	body, reserved, err = rt.readBody(w, r)
	return hopCount, body, reserved, err
}

// Buffers of large bodies are recycled: a fresh 400 KB buffer per request
// costs its zeroing and, above all, a garbage collection every few dozen
// requests. Sizes are classes of powers of two, from 1<<pooledFromBits to
// 1<<pooledUpToBits; sync.Pool drops what stays unused across collections,
// so the pools hold no more than recent traffic needs.
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
