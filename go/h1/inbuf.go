package h1

import (
	"bytes"
	"errors"
	"io"
	"sync"
)

// smallBuf is a connection's read buffer size; a request whose headers do
// not fit grows it (up to the header limit) until the request is served.
const smallBuf = 4 << 10

var smallBufs = sync.Pool{New: func() any { b := make([]byte, smallBuf); return &b }}

// errHeadersTooLarge: the headers do not fit in the server's limit (431).
var errHeadersTooLarge = errors.New("request headers too large")

// inbuf is a connection's read buffer: buf[r:w] arrived and is not
// consumed yet. Only the connection's goroutine uses it, except while the
// disconnect watcher owns the free tail (see conn.watch).
type inbuf struct {
	nc   io.Reader // the connection
	buf  []byte
	r, w int
}

func (b *inbuf) buffered() int { return b.w - b.r }

// fill reads once from the connection into the free tail, after
// compacting, or growing the buffer up to limit bytes.
func (b *inbuf) fill(limit int) error {
	if b.w == len(b.buf) {
		b.compact()
	}
	if b.w == len(b.buf) {
		if len(b.buf) >= limit {
			return errHeadersTooLarge
		}
		nb := make([]byte, min(2*len(b.buf), limit))
		b.w = copy(nb, b.buf[b.r:b.w])
		b.r = 0
		b.release()
		b.buf = nb
	}
	n, err := b.nc.Read(b.buf[b.w:])
	b.w += n
	if n > 0 {
		return nil
	}
	return err
}

// compact moves the unread bytes to the front.
func (b *inbuf) compact() {
	if b.r == 0 {
		return
	}
	b.w = copy(b.buf, b.buf[b.r:b.w])
	b.r = 0
}

// shrink returns to a small pooled buffer after a request that grew it.
func (b *inbuf) shrink() {
	if len(b.buf) <= smallBuf || b.buffered() > smallBuf {
		return
	}
	nb := *smallBufs.Get().(*[]byte)
	b.w = copy(nb, b.buf[b.r:b.w])
	b.r = 0
	b.buf = nb
}

// release gives a small buffer back to the pool.
func (b *inbuf) release() {
	if len(b.buf) == smallBuf {
		buf := b.buf
		smallBufs.Put(&buf)
	}
	b.buf = nil
}

// read copies buffered bytes into p, or reads from the connection: into p
// directly when p is at least a buffer long, else through the buffer.
func (b *inbuf) read(p []byte) (int, error) {
	if b.buffered() == 0 {
		if len(p) >= len(b.buf) {
			return b.nc.Read(p)
		}
		b.r, b.w = 0, 0
		if err := b.fill(len(b.buf)); err != nil {
			return 0, err
		}
	}
	n := copy(p, b.buf[b.r:b.w])
	b.r += n
	return n, nil
}

// line returns the next line (without its LF) once it is buffered whole;
// lines longer than limit fail.
func (b *inbuf) line(limit int) ([]byte, error) {
	for scanned := 0; ; {
		if i := bytes.IndexByte(b.buf[b.r+scanned:b.w], '\n'); i >= 0 {
			line := b.buf[b.r : b.r+scanned+i]
			b.r += scanned + i + 1
			return line, nil
		}
		scanned = b.buffered()
		if scanned > limit {
			return nil, errLineTooLong
		}
		if err := b.fill(max(len(b.buf), limit+1)); err != nil {
			return nil, err
		}
	}
}

var errLineTooLong = errors.New("line too long")

// headerEnd returns the length of the header block at buf[r:] (through
// its empty line) once it is buffered whole, else 0; from tells where the
// previous search stopped.
func (b *inbuf) headerEnd(from int) (end, next int) {
	data := b.buf[b.r:b.w]
	for i := from; ; {
		j := bytes.IndexByte(data[i:], '\n')
		if j < 0 {
			return 0, len(data)
		}
		i += j + 1
		rest := data[i:]
		switch {
		case len(rest) >= 1 && rest[0] == '\n':
			return i + 1, 0
		case len(rest) >= 2 && rest[0] == '\r' && rest[1] == '\n':
			return i + 2, 0
		case len(rest) < 2:
			return 0, i - 1 // rescan from this LF once more arrived
		}
	}
}
