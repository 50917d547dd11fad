// Package proxy forwards one request to one worker and copies the answer
// back: header rules, streaming with a flush per read, error classes. It knows
// nothing of policies or retries; the router decides where and how often.
package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// ErrUpstream marks a failure to get a response from the worker (refused,
// reset, timed out). Wrapped errors keep the cause.
var ErrUpstream = errors.New("worker unreachable")

// NewTransport returns the one tuned transport a router shares for all
// workers: keep-alive pools large enough for many concurrent streams per
// worker, no transparent gzip (bytes are forwarded as the worker sent them),
// and no response-header timeout (a 100k-token prefill may take minutes; the
// request context bounds it instead).
func NewTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          0,
		MaxIdleConnsPerHost:   512,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true,
		ExpectContinueTimeout: 0,
		WriteBufferSize:       64 << 10,
		ReadBufferSize:        64 << 10,
	}
}

// Sender sends one request to a worker, with the contract of Proxy.Send.
type Sender interface {
	Send(ctx context.Context, method, url string, in http.Header, body []byte, extra []Field) (*http.Response, error)
}

// Field is a header the router adds to a forwarded request. A list of
// them costs no map per request, as an http.Header would. Key is in
// canonical form; a key given twice is sent twice.
type Field struct{ Key, Value string }

// Fields lists h's headers as Fields.
func Fields(h http.Header) []Field {
	var fs []Field
	for k, vs := range h {
		for _, v := range vs {
			fs = append(fs, Field{k, v})
		}
	}
	return fs
}

// Replaces reports whether fields hold key: such a header of the client's
// is not forwarded.
func Replaces(fields []Field, key string) bool {
	for _, f := range fields {
		if f.Key == key {
			return true
		}
	}
	return false
}

// Proxy sends requests to workers. It is safe for concurrent use.
type Proxy struct {
	Client *http.Client
	// Plain, when set, sends the requests to http:// workers (the router's
	// synchronous HTTP/1.1 client); Client sends the others (https).
	Plain Sender
}

// Send issues method url with body and the client's headers (hop-by-hop
// removed) plus extra, which replace headers of the same key. The caller
// owns the response and must close its body; body is not referenced once
// Send returns. A transport failure is
// returned wrapped in ErrUpstream; a context error (client gone, deadline)
// is returned as is.
func (p *Proxy) Send(ctx context.Context, method, url string, in http.Header, body []byte, extra []Field) (*http.Response, error) {
	if p.Plain != nil && strings.HasPrefix(url, "http://") {
		return p.Plain.Send(ctx, method, url, in, body, extra)
	}
	return p.sendNetHTTP(ctx, method, url, in, body, extra)
}

// sendNetHTTP is Send through the net/http client. net/http watches only
// ctx's Done, which a context may not close at its deadline (the router's
// request context does not): a timer ends the exchange at the deadline.
func (p *Proxy) sendNetHTTP(ctx context.Context, method, url string, in http.Header, body []byte, extra []Field) (*http.Response, error) {
	tctx, stop := withTimer(ctx)
	// net/http may still read the body after RoundTrip returned (its writer
	// goroutine); the copy lets the caller reuse body once Send returns.
	req, err := http.NewRequestWithContext(tctx, method, url, bytes.NewReader(bytes.Clone(body)))
	if err != nil {
		stop()
		return nil, fmt.Errorf("%w: %v", ErrUpstream, err)
	}
	if body == nil {
		req.Body = http.NoBody
	}
	req.ContentLength = int64(len(body))
	CopyHeaders(req.Header, in)
	for _, f := range extra {
		req.Header.Del(f.Key)
	}
	for _, f := range extra {
		req.Header.Add(f.Key, f.Value)
	}
	resp, err := p.Client.Do(req)
	if err != nil {
		stop()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, fmt.Errorf("%w: %v", ErrUpstream, err)
	}
	resp.Body = &stopOnClose{ReadCloser: resp.Body, stop: stop}
	return resp, nil
}

// withTimer is ctx, cancelled at ctx's deadline by a timer; stop releases
// both.
func withTimer(ctx context.Context) (context.Context, func()) {
	d, ok := ctx.Deadline()
	if !ok {
		return ctx, func() {}
	}
	tctx, cancel := context.WithCancel(ctx)
	t := time.AfterFunc(time.Until(d), cancel)
	return tctx, func() { t.Stop(); cancel() }
}

// stopOnClose runs stop when the body is closed.
type stopOnClose struct {
	io.ReadCloser
	stop func()
}

func (b *stopOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.stop()
	return err
}

// isHop reports whether key (in canonical form) is a connection-level
// header a proxy must not forward (RFC 9110 section 7.6.1), or one the
// transport sets itself (Content-Length, Host). A switch, not a map: it
// runs for every header of every request and answer, and comparing
// against constants costs no hashing.
func isHop(key string) bool {
	switch key {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
		"Te", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length", "Host":
		return true
	}
	return false
}

// CopyHeaders copies src into dst minus hop-by-hop headers (and
// Content-Length, which the transport sets), including any that src's
// Connection header names.
func CopyHeaders(dst, src http.Header) {
	conn := src["Connection"]
	for k, vs := range src {
		if Forwarded(k, conn) {
			dst[k] = append(dst[k][:0:0], vs...)
		}
	}
}

// Forwarded reports whether a proxy passes on the header named key (in
// canonical form) of a message whose Connection header values are conn:
// not a hop-by-hop header, nor one that conn names. It does not allocate.
func Forwarded(key string, conn []string) bool {
	if isHop(key) {
		return false
	}
	for _, v := range conn {
		for name := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(name), key) {
				return false
			}
		}
	}
	return true
}
