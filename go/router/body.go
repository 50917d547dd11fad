package router

import (
	"fmt"
	"io"
	"net/http"
)

// readBody reads the whole request body, refusing more than limit bytes
// (ErrTooLarge) before reading them when Content-Length tells.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, fmt.Errorf("%w: %d bytes exceeds the limit of %d", ErrTooLarge, r.ContentLength, limit)
	}
	if r.ContentLength >= 0 {
		buf := make([]byte, r.ContentLength)
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
