package upstream

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// maxHeaderBytes bounds an answer's head (status line and headers).
const maxHeaderBytes = 1 << 20

// maxInterim bounds the 1xx answers skipped before the final one, so a
// worker cannot keep a request busy with them (net/http allows 5 too).
const maxInterim = 5

// answer holds a response and its body in one allocation.
type answer struct {
	resp http.Response
	body body
}

// readResponse reads the answer's head (skipping 1xx interim answers) and
// returns the response with its body unread.
func (cn *conn) readResponse(method string) (*http.Response, error) {
	for n := 0; ; n++ {
		a := &answer{}
		if err := cn.readHead(&a.resp, n == 0); err != nil {
			return nil, err
		}
		code := a.resp.StatusCode
		if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
			if n >= maxInterim {
				return nil, fmt.Errorf("more than %d interim (1xx) answers", maxInterim)
			}
			continue
		}
		if err := a.body.start(cn, &a.resp, method); err != nil {
			return nil, err
		}
		return &a.resp, nil
	}
}

// readHead parses the status line and the headers into r. If first, an
// answer that ends before its first byte is errStale.
func (cn *conn) readHead(r *http.Response, first bool) error {
	line, err := cn.line()
	if err != nil {
		if first && len(line) == 0 && !isTimeout(err) {
			return errors.Join(errStale, err)
		}
		return err
	}
	if err := parseStatus(r, line); err != nil {
		return err
	}
	return cn.readHeaders(r)
}

// line reads one line (without the line end), at most the read buffer.
func (cn *conn) line() ([]byte, error) {
	line, err := cn.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("answer head line longer than %d bytes", readBufSize)
	}
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return line, err
	}
	return bytes.TrimRight(line, "\r\n"), nil
}

// parseStatus reads "HTTP/1.x 200 OK".
func parseStatus(r *http.Response, line []byte) error {
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' || (len(line) > 12 && line[12] != ' ') {
		return fmt.Errorf("malformed status line %q", truncate(line))
	}
	code, err := strconv.Atoi(string(line[9:12]))
	if err != nil || code < 100 {
		return fmt.Errorf("malformed status code in %q", truncate(line))
	}
	r.StatusCode, r.ProtoMajor = code, 1
	switch line[7] {
	case '1':
		r.Proto, r.ProtoMinor = "HTTP/1.1", 1
	case '0':
		r.Proto = "HTTP/1.0"
	default:
		return fmt.Errorf("unsupported protocol in %q", truncate(line))
	}
	r.Status = statusText(code, line)
	return nil
}

// statusText is r.Status, "200 OK": shared when the worker's reason
// phrase is the usual one, else the worker's line as sent.
func statusText(code int, line []byte) string {
	reason := bytes.TrimSpace(line[min(len(line), 13):])
	if code < len(statusLines) && statusLines[code] != "" && string(reason) == statusLines[code][4:] {
		return statusLines[code]
	}
	return string(line[9:])
}

// statusLines[code] is "<code> <reason>" for every code net/http names.
var statusLines = func() (s [600]string) {
	for code := range s {
		if t := http.StatusText(code); t != "" {
			s[code] = strconv.Itoa(code) + " " + t
		}
	}
	return s
}()

func truncate(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
