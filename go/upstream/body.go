package upstream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// bodyMode is how an answer's body ends.
type bodyMode uint8

const (
	bodyLength  bodyMode = iota // Content-Length bytes
	bodyChunked                 // chunked transfer coding
	bodyToClose                 // until the worker closes the connection
)

// body reads an answer's body from its connection and gives the
// connection back (or closes it) when the body ends or is closed. Read
// and Close are for one goroutine, as net/http's response bodies.
type body struct {
	cn        *conn // nil once released
	mode      bodyMode
	keepAlive bool
	left      int64 // bytes left of the body (length) or the chunk (chunked)
	chunks    int   // chunks begun (chunked)
	err       error // sticky: io.EOF at the end, or the read error
}

var errClosed = errors.New("read on a closed response body")

// start reads the framing from r's head and sets r.Body and ContentLength.
// A body-less answer releases the connection at once.
func (b *body) start(cn *conn, r *http.Response, method string) error {
	b.cn = cn
	b.keepAlive = keepAlive(r)
	r.Close = !b.keepAlive
	switch {
	case method == http.MethodHead || r.StatusCode == http.StatusNoContent || r.StatusCode == http.StatusNotModified ||
		r.StatusCode < 200:
		r.Body, r.ContentLength = http.NoBody, 0
		b.keepAlive = b.keepAlive && r.StatusCode >= 200
		b.release(true)
		return nil
	case chunked(r.Header):
		b.mode, r.ContentLength = bodyChunked, -1
	default:
		n, ok, err := contentLength(r.Header)
		if err != nil {
			return err
		}
		b.mode, b.left, r.ContentLength = bodyLength, n, n
		if !ok {
			b.mode, b.keepAlive, r.ContentLength, r.Close = bodyToClose, false, -1, true
		}
	}
	r.Body = b
	if b.mode == bodyLength && b.left == 0 {
		b.err = io.EOF
		b.release(true)
	}
	return nil
}

// Read implements io.Reader. A read that ends the body returns io.EOF with
// its bytes, and the connection goes back to the pool before it returns.
func (b *body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.cn == nil {
		return 0, errClosed
	}
	var n int
	var err error
	switch b.mode {
	case bodyLength:
		n, err = b.readLength(p)
	case bodyChunked:
		n, err = b.readChunked(p)
	default:
		n, err = b.cn.br.Read(p)
	}
	if err != nil {
		b.err = err
		b.release(err == io.EOF)
	}
	return n, err
}

func (b *body) readLength(p []byte) (int, error) {
	n, err := b.cn.br.Read(p[:min(int64(len(p)), b.left)])
	b.left -= int64(n)
	switch {
	case b.left == 0:
		return n, io.EOF
	case err == io.EOF:
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}

// readChunked returns data of the current chunk, and of the chunks after
// it that have arrived already; it waits for the network only when it has
// nothing to return, so an event the worker flushed is passed on without
// waiting for the next, and events that came together leave together.
func (b *body) readChunked(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if b.left == 0 {
			if n > 0 && !b.chunkHeadBuffered() {
				break
			}
			size, err := b.nextChunk()
			if err != nil {
				return n, err
			}
			if size == 0 {
				return n, b.trailers()
			}
			b.left = size
		}
		if n > 0 && b.cn.br.Buffered() == 0 {
			break
		}
		m, err := b.cn.br.Read(p[n:min(int64(len(p)), int64(n)+b.left)])
		n += m
		b.left -= int64(m)
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// chunkHeadBuffered reports whether the next chunk's size line (and the
// CRLF ending the previous chunk) can be read without waiting.
func (b *body) chunkHeadBuffered() bool {
	buf, _ := b.cn.br.Peek(b.cn.br.Buffered())
	lines := 1
	if b.chunks > 0 {
		lines = 2
	}
	for ; lines > 0; lines-- {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			return false
		}
		buf = buf[i+1:]
	}
	return true
}

// nextChunk ends the previous chunk (its CRLF) and reads the next size.
func (b *body) nextChunk() (int64, error) {
	if b.chunks > 0 {
		if line, err := b.cn.line(); err != nil || len(line) != 0 {
			return 0, chunkError(err, "missing CRLF after chunk data")
		}
	}
	b.chunks++
	line, err := b.cn.line()
	if err != nil {
		return 0, chunkError(err, "")
	}
	if i := bytes.IndexByte(line, ';'); i >= 0 { // extensions are ignored
		line = line[:i]
	}
	size, ok := parseHex(bytes.TrimSpace(line))
	if !ok {
		return 0, fmt.Errorf("malformed chunk size %q", truncate(line))
	}
	return size, nil
}

// parseHex parses a chunk size: 1 to 15 hex digits.
func parseHex(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		v := int64(hexDigit(c))
		if v < 0 {
			return 0, false
		}
		n = n<<4 | v
	}
	return n, true
}

func hexDigit(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// trailers skips the trailer section after the last chunk.
func (b *body) trailers() error {
	for total := 0; total <= maxHeaderBytes; {
		line, err := b.cn.line()
		if err != nil {
			return chunkError(err, "")
		}
		if len(line) == 0 {
			return io.EOF
		}
		total += len(line)
	}
	return fmt.Errorf("chunked trailers larger than %d bytes", maxHeaderBytes)
}

func chunkError(err error, what string) error {
	switch {
	case err == nil:
		return errors.New(what)
	case err == io.EOF:
		return io.ErrUnexpectedEOF
	}
	return err
}

// Close implements io.Closer. A body closed before its end closes the
// connection: the rest of the answer is still on its way.
func (b *body) Close() error {
	if b.err == nil {
		b.err = errClosed
	}
	b.release(false)
	return nil
}

// release gives the connection back to its pool if the body was read to
// its end, the worker keeps it open and the request's context did not
// abort it; else it closes it. Only the first call acts.
func (b *body) release(complete bool) {
	cn := b.cn
	if cn == nil {
		return
	}
	b.cn = nil
	if cn.stop() && complete && b.keepAlive && cn.br.Buffered() == 0 {
		cn.host.put(cn, cn.opts)
		return
	}
	cn.close()
}

// keepAlive reports whether the worker keeps the connection open after r.
func keepAlive(r *http.Response) bool {
	if r.ProtoMinor == 0 {
		return hasToken(r.Header["Connection"], "keep-alive")
	}
	return !hasToken(r.Header["Connection"], "close")
}

func chunked(h http.Header) bool {
	te := h["Transfer-Encoding"]
	return len(te) > 0 && strings.EqualFold(strings.TrimSpace(te[len(te)-1]), "chunked")
}

// contentLength reads Content-Length; ok is false without one. Copies of
// one value are allowed (RFC 9110 section 8.6); differing ones are not.
func contentLength(h http.Header) (n int64, ok bool, err error) {
	vs := h["Content-Length"]
	if len(vs) == 0 {
		return 0, false, nil
	}
	for _, v := range vs {
		if v != vs[0] {
			return 0, false, fmt.Errorf("conflicting Content-Length values %q", vs)
		}
	}
	n, err = strconv.ParseInt(vs[0], 10, 64)
	if err != nil || n < 0 {
		return 0, false, fmt.Errorf("malformed Content-Length %q", vs[0])
	}
	return n, true, nil
}

func hasToken(values []string, token string) bool {
	for _, v := range values {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
