package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"go.uber.org/zap"

	"github.com/sgl-project/sglang-router-go/go/worker"
)

// How a forward that failed ends for the client. What the client reads
// names no worker and no internal error, only what happened and the
// request id; the worker and the cause go to the log under that id.

// fail answers a request none of whose attempts answered: nothing reached
// the client yet, so it gets the class's status and an OpenAI-style error
// whose type is the class's metric label.
func (rt *Router) fail(c *call, f failure) int {
	if f.o == outcomeClientGone {
		return f.o.reply(statusClientGone) // nobody is listening
	}
	rt.logFailure(c, f, "request failed")
	status := f.o.status(0)
	writeJSON(c.w, status, newErrorBody(status, f.o.errorType(), rt.failMessage(c, f)))
	return f.o.reply(status)
}

// cut ends an answer that broke mid-body (the worker failed, the deadline
// passed or the router is stopping). The status line is long gone: an
// event stream gets one final error event, then the connection is aborted
// (see cutReply) so the client cannot take the answer for a complete one.
func (rt *Router) cut(c *call, f failure, stream bool) int {
	rt.logFailure(c, f, "answer cut")
	if f.wk != nil && f.wk.Role() == worker.Decode && f.o.chargesWorker() {
		rt.rec.RecordPDStreamError(f.wk.URL())
	}
	if stream {
		writeStreamError(c.w, newErrorBody(f.o.status(0), f.o.errorType(), rt.failMessage(c, f)))
	}
	return f.o.cutReply()
}

// failMessage is what the client is told about failure f: what happened,
// which pool's worker failed in PD mode, and the request id.
func (rt *Router) failMessage(c *call, f failure) string {
	what := "worker unavailable"
	switch {
	case f.o == outcomeDeadline && errors.Is(context.Cause(c.ctx), ErrShutdown):
		what = "the router is shutting down"
	case f.o == outcomeDeadline:
		what = "upstream timeout: no complete answer within " + rt.opts.RequestTimeout.String()
	case f.wk != nil && f.wk.Role() != worker.Regular:
		what = f.wk.Role().String() + " " + what
	}
	return what + " (request id " + c.id + ")"
}

// logFailure logs a failed request at warn level with its id, the worker
// and the cause: a failure is rare enough to afford it, and it is the only
// place those details are kept.
func (rt *Router) logFailure(c *call, f failure, msg string) {
	ce := rt.log.Check(zap.WarnLevel, msg)
	if ce == nil {
		return
	}
	fields := []zap.Field{zap.String("request_id", c.id), zap.String("path", c.path), zap.String("error_type", f.o.errorType())}
	if f.wk != nil {
		fields = append(fields, zap.String("worker", f.wk.URL()), zap.String("role", f.wk.Role().String()))
	}
	if f.err != nil {
		fields = append(fields, zap.Error(f.err))
	}
	ce.Write(fields...)
}

// statusError describes a worker's error status for the log.
func statusError(code int) error { return fmt.Errorf("worker answered %d", code) }

// writeStreamError ends a cut event stream with one final OpenAI-style
// error event, `data: {"error": {...}}`, and flushes it. It starts with a
// newline: what the client got ends at a line boundary (the proxy relays
// whole lines), and an empty line completes an event the worker had not
// finished, so the error is an event of its own.
func writeStreamError(w http.ResponseWriter, b errorBody) {
	data, _ := json.Marshal(b)
	event := append(append([]byte("\ndata: "), data...), "\n\n"...)
	if _, err := w.Write(event); err == nil {
		_ = http.NewResponseController(w).Flush()
	}
}
