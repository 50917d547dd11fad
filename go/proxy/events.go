package proxy

import (
	"bytes"
	"io"
	"net/http"
)

// copyEvents relays an event stream and flushes after every write. It
// writes whole lines only: the bytes after the last newline of a read are
// held until the rest of their line arrives (a line longer than the buffer
// is written as it comes). SSE events end with a newline, so nothing waits
// that the client could use; and if the worker's stream breaks, what the
// client got ends at a line boundary, where the router can still append a
// well-formed error event. At the end of the stream everything is written.
func copyEvents(w http.ResponseWriter, body io.Reader, d *Delivery) error {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	rc := http.NewResponseController(w)
	held := 0
	for {
		n, rerr := body.Read(buf[held:])
		n += held
		end := bytes.LastIndexByte(buf[:n], '\n') + 1
		if rerr == io.EOF || (end == 0 && n == len(buf)) {
			end = n
		}
		if end > 0 {
			if _, werr := w.Write(buf[:end]); werr != nil {
				return ErrClientGone
			}
			if err := rc.Flush(); err != nil {
				return ErrClientGone
			}
			d.wrote(buf[:end])
		}
		held = copy(buf, buf[end:n])
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr // an incomplete line is dropped
		}
	}
}
