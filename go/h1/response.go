package h1

import (
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/sgl-project/sglang-router-go/go/mono"
)

// bufferBody is how much of an answer is held before its head is sent:
// an answer the handler finished within it gets a Content-Length, a
// longer one (or one flushed) is chunked unless the handler set its
// Content-Length.
const bufferBody = 4 << 10

// flushAt is the size from which written bytes go to the connection at
// once rather than wait in the buffer.
const flushAt = 8 << 10

var errAfterHandler = errors.New("h1: write after the handler returned")

// response is the connection's http.ResponseWriter, reset per request. It
// supports http.ResponseController's Flush, SetReadDeadline and
// SetWriteDeadline.
type response struct {
	c         *conn
	req       *http.Request
	header    http.Header
	status    int
	committed bool // the head is written (to out)
	chunked   bool
	// declared is the Content-Length the handler set, -1 for none.
	declared int64
	written  int64
	noBody   bool // HEAD, or a status without a body
	closing  bool // the connection closes after this answer
	done     bool
	body     []byte // the body written before the head is (at most bufferBody)
	out      []byte // head and body bytes not yet on the connection
	bufs     net.Buffers
	err      error // sticky write error
}

func (w *response) reset(r *http.Request) {
	if w.header == nil {
		w.header = make(http.Header, 8)
	}
	clear(w.header)
	*w = response{c: w.c, req: r, header: w.header, body: w.body[:0], out: w.out[:0], bufs: w.bufs[:0], declared: -1}
	w.closing = r.Close
}

func (w *response) Header() http.Header { return w.header }

func (w *response) WriteHeader(code int) {
	if w.status != 0 || w.done {
		return
	}
	if code < 100 || code > 999 {
		code = http.StatusInternalServerError
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		w.writeInformational(code)
		return
	}
	w.status = code
	w.noBody = w.req.Method == http.MethodHead || code == http.StatusNoContent || code == http.StatusNotModified
	if cl := w.header.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n >= 0 {
			w.declared = n
		} else {
			w.header.Del("Content-Length")
		}
	}
}

// writeInformational sends a 1xx answer at once.
func (w *response) writeInformational(code int) {
	w.out = w.appendStatus(w.out, code)
	w.out = w.appendHeaders(w.out)
	w.out = append(w.out, "\r\n"...)
	w.send()
}

func (w *response) Write(p []byte) (int, error) {
	if w.done {
		return 0, errAfterHandler
	}
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.status == http.StatusNoContent || w.status == http.StatusNotModified {
		return 0, http.ErrBodyNotAllowed
	}
	if w.declared >= 0 && w.written+int64(len(p)) > w.declared {
		return 0, http.ErrContentLength
	}
	w.written += int64(len(p))
	if !w.committed {
		if len(w.body)+len(p) <= bufferBody {
			w.body = append(w.body, p...)
			return len(p), nil
		}
		w.commitBuffered(false, p)
	}
	w.writeBody(p)
	return len(p), w.err
}

// writeBody adds p to the committed answer, framed as a chunk when
// chunked; large writes go out at once.
func (w *response) writeBody(p []byte) {
	if w.noBody || len(p) == 0 {
		return
	}
	if w.chunked {
		w.out = strconv.AppendInt(w.out, int64(len(p)), 16)
		w.out = append(w.out, "\r\n"...)
	}
	if len(w.out)+len(p) <= flushAt {
		w.out = append(w.out, p...)
		if w.chunked {
			w.out = append(w.out, "\r\n"...)
		}
		if len(w.out) >= flushAt {
			w.send()
		}
		return
	}
	w.bufs = append(w.bufs[:0], w.out, p)
	if w.chunked {
		w.bufs = append(w.bufs, crlf)
	}
	w.sendBufs()
}

var crlf = []byte("\r\n")

// FlushError sends everything written so far (http.ResponseController's
// Flush).
func (w *response) FlushError() error {
	if w.done {
		return errAfterHandler
	}
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		w.commitBuffered(false, nil)
	}
	w.send()
	return w.err
}

func (w *response) Flush() { _ = w.FlushError() }

func (w *response) SetReadDeadline(t time.Time) error  { return w.c.setReadDeadlineAt(t) }
func (w *response) SetWriteDeadline(t time.Time) error { return w.c.nc.SetWriteDeadline(t) }

// finish completes the answer once the handler returned: a head with the
// body's length if none was sent, else the last chunk. An answer shorter
// than its Content-Length closes the connection.
func (w *response) finish() {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		w.commitBuffered(true, nil)
	} else if w.chunked {
		w.out = append(w.out, "0\r\n\r\n"...)
	}
	if w.declared >= 0 && w.written < w.declared && !w.noBody {
		w.closing = true
	}
	w.send()
	w.done = true
	if w.closing || w.err != nil {
		w.c.closeNow = true
	}
}

// send writes the buffered bytes to the connection.
func (w *response) send() {
	if len(w.out) == 0 || w.err != nil {
		w.out = w.out[:0]
		return
	}
	_, w.err = w.c.rw.Write(w.out)
	w.out = w.out[:0]
}

// sendBufs writes w.bufs in one writev.
func (w *response) sendBufs() {
	if w.err == nil {
		bufs := w.bufs
		_, w.err = bufs.WriteTo(w.c.nc)
	}
	clear(w.bufs)
	w.bufs, w.out = w.bufs[:0], w.out[:0]
}

// commitBuffered writes the head and the buffered body into out; next is
// the write that follows, sniffed for a Content-Type if nothing is
// buffered.
func (w *response) commitBuffered(final bool, next []byte) {
	sniff := w.body
	if len(sniff) == 0 && !final {
		sniff = next
	}
	w.commit(final, sniff)
	w.writeBody(w.body)
	w.body = w.body[:0]
}

// commit writes the head into out; final: the handler returned and
// sniff is the whole body, else its start (for a Content-Type).
func (w *response) commit(final bool, sniff []byte) {
	w.committed = true
	h := w.header
	if hasToken(h["Connection"], "close") || w.c.srv.shutting.Load() || w.c.body.leftUnread() {
		w.closing = true
	}
	length := w.declared
	switch {
	case w.declared >= 0:
	case final && (w.req.Method != http.MethodHead || len(sniff) > 0) && w.bodyAllowed():
		length = int64(len(sniff))
	case !final && w.bodyAllowed() && w.req.Method != http.MethodHead:
		if w.req.ProtoMinor == 0 {
			w.closing = true // HTTP/1.0 has no chunks: the end of the body is the end of the connection
		} else {
			w.chunked = true
		}
	}
	if _, ok := h["Content-Type"]; !ok && len(sniff) > 0 && w.bodyAllowed() {
		h.Set("Content-Type", http.DetectContentType(sniff))
	}
	b := w.appendStatus(w.out[:0], w.status)
	b = w.appendHeaders(b)
	if _, ok := h["Date"]; !ok {
		b = append(b, "Date: "...)
		b = append(b, w.c.srv.dateNow()...)
		b = append(b, "\r\n"...)
	}
	if length >= 0 {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, length, 10)
		b = append(b, "\r\n"...)
	}
	if w.chunked {
		b = append(b, "Transfer-Encoding: chunked\r\n"...)
	}
	switch {
	case w.closing:
		b = append(b, "Connection: close\r\n"...)
	case w.req.ProtoMinor == 0:
		b = append(b, "Connection: keep-alive\r\n"...)
	}
	w.out = append(b, "\r\n"...)
}

func (w *response) bodyAllowed() bool {
	return w.status >= 200 && w.status != http.StatusNoContent && w.status != http.StatusNotModified
}

func (w *response) appendStatus(b []byte, code int) []byte {
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, ' ')
	if text := http.StatusText(code); text != "" {
		return append(append(b, text...), "\r\n"...)
	}
	b = strconv.AppendInt(append(b, "status code "...), int64(code), 10)
	return append(b, "\r\n"...)
}

// appendHeaders appends the handler's headers but those the server sets
// itself (framing, connection), with CR and LF in values made spaces.
func (w *response) appendHeaders(b []byte) []byte {
	for k, vs := range w.header {
		switch k {
		case "Transfer-Encoding", "Connection", "Keep-Alive", "Content-Length":
			continue
		}
		if !validToken(k) {
			continue
		}
		for _, v := range vs {
			b = append(append(b, k...), ": "...)
			for i := 0; i < len(v); i++ {
				if c := v[i]; c == '\r' || c == '\n' {
					b = append(b, ' ')
				} else {
					b = append(b, c)
				}
			}
			b = append(b, "\r\n"...)
		}
	}
	return b
}

// dateLine is a Date header value and the instant (monotonic) its second
// ends.
type dateLine struct {
	until time.Time
	val   string
}

// dateNow is the Date header's value, remade once a second: the check is
// one monotonic read (mono.Now); the system clock is read only to remake
// it.
func (s *Server) dateNow() string {
	now := mono.Now()
	if d := s.date.Load(); d != nil && now.Before(d.until) {
		return d.val
	}
	wall := time.Now()
	d := &dateLine{until: now.Add(time.Second - time.Duration(wall.Nanosecond())), val: wall.UTC().Format(http.TimeFormat)}
	s.date.Store(d)
	return d.val
}
