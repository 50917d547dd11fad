package proxy

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// ErrClientGone marks a client that went away while its response was being
// written; nothing more can be sent to it.
var ErrClientGone = errors.New("client disconnected")

var bufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// Delivery describes a response copy.
type Delivery struct {
	Bytes int64
	// FirstByte is called once, just after the first body bytes were
	// written (for time to first token; for an event stream, after they
	// were flushed); it may be nil.
	FirstByte func()
	// Tap, when set, is called with every piece of the body written to
	// the client, in order, after it was written (and flushed, for an
	// event stream): what the client got, nothing more. The bytes are the
	// copy buffer's: Tap must not keep them.
	Tap func(p []byte)
}

// WriteResponse writes resp's status, headers (hop-by-hop removed) and body
// to w and closes resp.Body. Event streams are relayed as they arrive, whole
// lines at a time, flushed after every write (see copyEvents), so each SSE
// event reaches the client as soon as the worker sent it, never buffered
// whole. It returns ErrClientGone if writing to the client failed, or the
// worker's read error if the answer broke off.
func WriteResponse(w http.ResponseWriter, resp *http.Response, d *Delivery) error {
	defer resp.Body.Close()
	shareHeaders(w.Header(), resp.Header)
	stream := IsEventStream(resp.Header)
	if resp.ContentLength >= 0 && !stream {
		w.Header()["Content-Length"] = contentLength(resp)
	}
	w.WriteHeader(resp.StatusCode)
	if stream {
		return copyEvents(w, resp.Body, d)
	}
	return copyBody(w, resp.Body, d)
}

func copyBody(w http.ResponseWriter, body io.Reader, d *Delivery) error {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return ErrClientGone
			}
			d.wrote(buf[:n])
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// wrote accounts p, written to the client.
func (d *Delivery) wrote(p []byte) {
	if d == nil {
		return
	}
	if d.Bytes == 0 && d.FirstByte != nil {
		d.FirstByte()
	}
	d.Bytes += int64(len(p))
	if d.Tap != nil {
		d.Tap(p)
	}
}

// shareHeaders is CopyHeaders for an answer's headers, which nothing else
// holds: dst takes src's value slices instead of copies.
func shareHeaders(dst, src http.Header) {
	conn := src["Connection"]
	for k, vs := range src {
		if Forwarded(k, conn) {
			dst[k] = vs
		}
	}
}

// contentLength is the Content-Length header value of resp: the worker's
// own when it states resp.ContentLength (no allocation), else formatted.
func contentLength(resp *http.Response) []string {
	if v := resp.Header["Content-Length"]; len(v) == 1 {
		if n, err := strconv.ParseInt(v[0], 10, 64); err == nil && n == resp.ContentLength && digits(v[0]) {
			return v
		}
	}
	return []string{strconv.FormatInt(resp.ContentLength, 10)}
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// IsEventStream reports whether h declares a text/event-stream body.
func IsEventStream(h http.Header) bool {
	ct := h.Get("Content-Type")
	if ct == "" {
		return false
	}
	const sse = "text/event-stream"
	mt, _, _ := strings.Cut(ct, ";")
	if !strings.EqualFold(strings.TrimSpace(mt), sse) {
		return false // the common case, decided without parsing (which allocates)
	}
	_, _, err := mime.ParseMediaType(ct)
	return err == nil
}

// Drain discards and closes a response body we will not forward, so the
// connection can be reused.
func Drain(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	resp.Body.Close()
}
