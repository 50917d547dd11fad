package router

import (
	"context"
	"errors"
	"net/http"

	"github.com/sgl-project/sglang-router-go/go/proxy"
)

// outcome is the class an attempt to forward a request ends in, regular or
// PD. Everything the router does about an attempt follows from its class
// alone, in the methods below: whether the worker's circuit breaker is
// charged, whether the request is retried elsewhere, the status the client
// gets and the error label of the metrics.
type outcome uint8

const (
	// outcomeNone: not an attempt (a handler that forwards nothing, or a
	// request refused before any worker was tried).
	outcomeNone outcome = iota
	// outcomeOK: the worker answered 1xx-3xx.
	outcomeOK
	// outcomeRejected: the worker answered with a status that another
	// worker of the pool would answer the same way: a 4xx (the client's
	// request is wrong), or a 5xx that describes the request or the
	// deployment rather than this worker's state (501 not implemented,
	// 505, 508 loop detected, ...). Passed to the client as is.
	outcomeRejected
	// outcomeWorkerFailed: the worker answered that it cannot serve now:
	// 408, 429, 500, 502, 503, 504 (the original's retryable set).
	outcomeWorkerFailed
	// outcomeTransport: no usable answer: the connection was refused or
	// reset, or the answer broke off mid-body.
	outcomeTransport
	// outcomeDeadline: the router ended the request: its request timeout
	// passed, or the router is shutting down and the grace period ran out.
	outcomeDeadline
	// outcomeClientGone: the client disconnected.
	outcomeClientGone
)

// classify names how an attempt ended. ctx is the attempt's context (the
// client's, bounded by the router's deadline); err is what sending the
// request or relaying the answer failed with (nil if it did not fail);
// status is the worker's status, 0 if it did not answer.
func classify(ctx context.Context, err error, status int) outcome {
	if err != nil {
		return classifyErr(ctx, err)
	}
	switch {
	case retryableStatus(status):
		return outcomeWorkerFailed
	case status >= 400:
		return outcomeRejected
	}
	return outcomeOK
}

// classifyErr names a failed attempt by who ended it: the router (its
// deadline or its shutdown), the client, or else the worker.
func classifyErr(ctx context.Context, err error) outcome {
	if ctx.Err() != nil {
		if stoppedByRouter(ctx) {
			return outcomeDeadline
		}
		return outcomeClientGone
	}
	if errors.Is(err, proxy.ErrClientGone) {
		return outcomeClientGone
	}
	return outcomeTransport
}

// stoppedByRouter reports whether ctx ended because of the router (its
// request timeout, or ErrShutdown from the server's base context) rather
// than because the client went away.
func stoppedByRouter(ctx context.Context) bool {
	cause := context.Cause(ctx)
	return errors.Is(cause, context.DeadlineExceeded) || errors.Is(cause, ErrShutdown)
}

// chargesWorker reports whether the attempt counts as a failure of the
// worker (its circuit breaker). A deadline or a client that left says
// nothing about the worker; a rejected request is the client's fault.
func (o outcome) chargesWorker() bool {
	return o == outcomeWorkerFailed || o == outcomeTransport
}

// provesWorker reports whether the attempt shows the worker serving: it
// counts as a success for its circuit breaker.
func (o outcome) provesWorker() bool {
	return o == outcomeOK || o == outcomeRejected
}

// retryable reports whether another worker may be tried, if nothing
// reached the client yet and the retry budget allows. Only the worker's
// own failures qualify: the router's deadline and a departed client end
// the request, and a rejection would be repeated anywhere.
func (o outcome) retryable() bool {
	return o == outcomeWorkerFailed || o == outcomeTransport
}

// status is the status the client gets: the worker's own (answered) when
// its answer is passed on, else the router's for the class.
func (o outcome) status(answered int) int {
	switch o {
	case outcomeClientGone:
		return statusClientGone
	case outcomeDeadline:
		return http.StatusGatewayTimeout
	case outcomeTransport:
		return http.StatusBadGateway
	}
	if answered == 0 {
		return http.StatusBadGateway // a worker failure whose answer was not kept
	}
	return answered
}

// errorType is the metrics error_type label of the class ("" for success),
// and the "type" of the error the router writes for it (fail, cut).
func (o outcome) errorType() string {
	switch o {
	case outcomeRejected:
		return "invalid_request_error"
	case outcomeWorkerFailed:
		return "worker_error"
	case outcomeTransport:
		return "upstream_error"
	case outcomeDeadline:
		return "timeout"
	case outcomeClientGone:
		return "client_disconnected"
	}
	return ""
}

// A handler returns the status the client got as an int. A forward packs
// more into it for ServeHTTP: its outcome class, which names the error in
// the metrics, and whether the answer was cut mid-body so the connection
// must be aborted once the request is recorded. Packing keeps one handler
// signature for every route; reply, cutReply and unpackReply are the only
// code that knows the layout (status in the low 16 bits, class above).
const (
	outcomeShift = 16
	cutFlag      = 1 << 24
)

// reply is the handler result of an attempt of class o that answered status.
func (o outcome) reply(status int) int { return status | int(o)<<outcomeShift }

// cutReply is the handler result of an answer of class o cut mid-body.
func (o outcome) cutReply() int { return o.reply(o.status(0)) | cutFlag }

// unpackReply splits a handler result; a plain status has class outcomeNone.
func unpackReply(v int) (status int, o outcome, cut bool) {
	return v & (1<<outcomeShift - 1), outcome(v >> outcomeShift & 0xff), v&cutFlag != 0
}

// errorLabel is the error_type label of a finished request, "" if it did
// not fail: the class's for a forward, else the status's.
func errorLabel(status int, o outcome) string {
	if o != outcomeNone {
		return o.errorType()
	}
	if status >= 400 {
		return errorType(status)
	}
	return ""
}
