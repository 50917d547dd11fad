package h1

import (
	"errors"
	"io"
	"strconv"
	"strings"
)

// maxChunkLine bounds a chunk's size line (extensions included) and each
// trailer line of a chunked body.
const maxChunkLine = 4000

var (
	errBodyClosed   = errors.New("h1: read on a closed request body")
	errBadChunk     = errors.New("malformed chunked request body")
	errTrailerLimit = errors.New("chunked request body trailers too large")
)

// body is a request's body, read from the connection's buffer: a
// Content-Length or chunked body. It belongs to the connection.
type body struct {
	c         *conn
	chunked   bool
	remaining int64 // of the body (Content-Length) or of the current chunk
	// inChunk: remaining counts the current chunk's data; afterwards its
	// CRLF follows.
	inChunk      bool
	eof          bool
	closed       bool
	err          error // sticky
	sendContinue bool  // send "100 Continue" before the first read
}

func (b *body) reset(c *conn, hd head) {
	*b = body{c: c, chunked: hd.chunked, remaining: max(hd.contentLength, 0), sendContinue: hd.expectContinue}
	b.eof = !hd.chunked && hd.contentLength <= 0
}

func (b *body) Read(p []byte) (int, error) {
	if b.closed {
		return 0, errBodyClosed
	}
	if b.err != nil {
		return 0, b.err
	}
	if b.eof {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if b.sendContinue {
		b.sendContinue = false
		if err := b.c.writeContinue(); err != nil {
			b.err = err
			return 0, err
		}
	}
	n, err := b.read(p)
	if err != nil {
		if err == io.EOF {
			b.eof = true
			b.c.bodyDone()
		} else {
			b.err = err
		}
	}
	return n, err
}

func (b *body) read(p []byte) (int, error) {
	if !b.chunked {
		return b.readData(p, io.EOF)
	}
	if !b.inChunk {
		if err := b.nextChunk(); err != nil {
			return 0, err
		}
	}
	return b.readData(p, nil)
}

// readData reads the current data (body or chunk); at its end it returns
// atEnd (io.EOF for a Content-Length body).
func (b *body) readData(p []byte, atEnd error) (int, error) {
	if int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	n, err := b.c.in.read(p)
	b.remaining -= int64(n)
	if err == io.EOF {
		return n, io.ErrUnexpectedEOF
	}
	if err != nil {
		return n, err
	}
	if b.remaining > 0 {
		return n, nil
	}
	if b.chunked {
		b.inChunk = false
		if err := b.expectCRLF(); err != nil {
			return n, err
		}
		return n, nil
	}
	return n, atEnd
}

// nextChunk reads a chunk's size line; the last chunk's trailers are
// read and dropped, and then the body ends.
func (b *body) nextChunk() error {
	line, err := b.line()
	if err != nil {
		return err
	}
	size, _, _ := strings.Cut(string(line), ";")
	n, perr := strconv.ParseUint(strings.TrimRight(size, " \t"), 16, 62)
	if perr != nil || size == "" || size[0] == '+' {
		return errBadChunk
	}
	if n > 0 {
		b.remaining, b.inChunk = int64(n), true
		return nil
	}
	for total := 0; ; {
		line, err := b.line()
		if err != nil {
			return err
		}
		if len(line) == 0 {
			return io.EOF
		}
		if total += len(line); total > maxChunkLine {
			return errTrailerLimit
		}
	}
}

// line is the next line of a chunked body, without CR LF.
func (b *body) line() ([]byte, error) {
	line, err := b.c.in.line(maxChunkLine)
	switch {
	case err == io.EOF:
		return nil, io.ErrUnexpectedEOF
	case errors.Is(err, errLineTooLong), errors.Is(err, errHeadersTooLarge):
		return nil, errBadChunk
	case err != nil:
		return nil, err
	}
	if len(line) == 0 || line[len(line)-1] != '\r' {
		return nil, errBadChunk
	}
	return line[:len(line)-1], nil
}

func (b *body) expectCRLF() error {
	line, err := b.line()
	if err != nil {
		return err
	}
	if len(line) != 0 {
		return errBadChunk
	}
	return nil
}

// leftUnread reports whether the body will not have been read when the
// answer is complete, so the connection cannot serve another request: the
// client waits for 100 Continue, or the rest is more than the server
// discards (see conn.finishBody).
func (b *body) leftUnread() bool {
	return !b.eof && (b.sendContinue || !b.chunked && b.remaining > maxDiscard)
}

// Close marks the body closed; what is left unread is dealt with after
// the handler returned (see conn.finishBody).
func (b *body) Close() error {
	b.closed = true
	return nil
}
