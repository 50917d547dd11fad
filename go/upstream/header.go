package upstream

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"unsafe"

	"github.com/sgl-project/sglang-router-go/go/hdr"
)

// readHeaders reads header lines up to the empty line into r.Header. The
// lines are gathered in one reused buffer and made into one string, which
// every key and value slices: an answer's headers cost three allocations
// (the string, the values, the map) whatever their number. Keys are
// canonicalized as net/http does; the common ones are shared strings.
func (cn *conn) readHeaders(r *http.Response) error {
	buf, spans := cn.hbuf[:0], cn.spans[:0]
	for total := 0; ; {
		line, err := cn.line()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		if len(line) == 0 {
			break
		}
		if total += len(line); total > maxHeaderBytes {
			return fmt.Errorf("answer headers larger than %d bytes", maxHeaderBytes)
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || bytes.ContainsAny(line[:colon], " \t") {
			return fmt.Errorf("malformed header line %q", truncate(line))
		}
		ks := len(buf)
		buf = hdr.AppendCanonical(buf, line[:colon])
		vs := len(buf)
		buf = append(buf, bytes.Trim(line[colon+1:], " \t")...)
		spans = append(spans, span{ks, vs, len(buf)})
	}
	r.Header = makeHeader(buf, spans)
	cn.hbuf, cn.spans = keep(buf, 1), keep(spans, int(unsafe.Sizeof(span{})))
	return nil
}

// span locates one header in the buffer: key buf[k:v], value buf[v:end].
type span struct{ k, v, end int }

func makeHeader(buf []byte, spans []span) http.Header {
	h := make(http.Header, len(spans))
	if len(spans) == 0 {
		return h
	}
	s := string(buf)
	vals := make([]string, len(spans))
	for i, sp := range spans {
		key, ok := commonKeys[string(buf[sp.k:sp.v])]
		if !ok {
			key = s[sp.k:sp.v]
		}
		vals[i] = s[sp.v:sp.end]
		if old, dup := h[key]; dup {
			h[key] = append(old, vals[i])
		} else {
			h[key] = vals[i : i+1 : i+1]
		}
	}
	return h
}

// commonKeys interns the header names workers send, so they cost nothing.
var commonKeys = hdr.Interned("Content-Type", "Content-Length", "Date", "Server", "Connection", "Keep-Alive",
	"Transfer-Encoding", "Cache-Control", "X-Request-Id", "Content-Encoding", "Vary", "Access-Control-Allow-Origin",
	"X-Accel-Buffering", "Trailer", "Location", "Www-Authenticate", "Retry-After")
