package router

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/sgl-project/sglang-router-go/go/proxy"
	"github.com/sgl-project/sglang-router-go/go/reqbody"
)

// Error classes of the request path. statusFor maps each to one HTTP status.
var (
	ErrNoWorker     = errors.New("no healthy worker available")
	ErrTooLarge     = errors.New("request body too large")
	ErrBadRequest   = errors.New("bad request")
	ErrNotFound     = errors.New("not found")
	ErrQueueFull    = errors.New("too many requests")
	ErrQueueTimeout = errors.New("timed out waiting for a free slot")
	ErrUnauthorized = errors.New("unauthorized")
	ErrMethod       = errors.New("method not allowed")
	// ErrBodyTimeout: the client did not send its whole body in time (408).
	ErrBodyTimeout = errors.New("request body read timed out")
	// ErrBodyBudget: the router-wide cap on buffered request bodies is
	// reached (429); the client may retry later.
	ErrBodyBudget = errors.New("too many request bodies in flight")
	// ErrLoop refuses a request that already went through maxHops routers.
	ErrLoop = errors.New("forwarding loop detected")
	// ErrShutdown is the cause the app cancels every request's context
	// with when the shutdown grace period ends (see http.Server.BaseContext).
	ErrShutdown = errors.New("the router is shutting down")
)

// statusFor is the one place an error class becomes an HTTP status.
func statusFor(err error) int {
	if status, ok := workerErrorStatus(err); ok {
		return status
	}
	switch {
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrBadRequest), errors.Is(err, reqbody.ErrMalformed), errors.Is(err, reqbody.ErrNotObject):
		return http.StatusBadRequest
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrMethod):
		return http.StatusMethodNotAllowed
	case errors.Is(err, ErrUnauthorized):
		return http.StatusUnauthorized
	case errors.Is(err, ErrQueueFull), errors.Is(err, ErrBodyBudget):
		return http.StatusTooManyRequests
	case errors.Is(err, ErrQueueTimeout), errors.Is(err, ErrBodyTimeout):
		return http.StatusRequestTimeout
	case errors.Is(err, ErrNoWorker), errors.Is(err, ErrShutdown):
		return http.StatusServiceUnavailable
	case errors.Is(err, ErrLoop):
		return http.StatusLoopDetected
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	case errors.Is(err, context.Canceled):
		return statusClientGone
	case errors.Is(err, proxy.ErrUpstream):
		return http.StatusBadGateway
	}
	return http.StatusInternalServerError
}

// errorType is the OpenAI-style "type" and the metrics error_type label.
func errorType(status int) string {
	switch {
	case status == http.StatusRequestEntityTooLarge:
		return "payload_too_large"
	case status == http.StatusNotFound:
		return "not_found"
	case status == http.StatusTooManyRequests:
		return "rate_limited"
	case status == http.StatusUnauthorized:
		return "unauthorized"
	case status == http.StatusServiceUnavailable:
		return "no_available_workers"
	case status == http.StatusGatewayTimeout || status == http.StatusRequestTimeout:
		return "timeout"
	case status == http.StatusBadGateway:
		return "upstream_error"
	case status == http.StatusLoopDetected:
		return "loop_detected"
	case status == statusClientGone:
		return "client_disconnected"
	case status < 500:
		return "invalid_request_error"
	}
	return "internal_error"
}

type errorBody struct {
	Error struct {
		Message string `json:"message"`
		Type    string `json:"type"`
		Code    int    `json:"code"`
	} `json:"error"`
}

// writeError writes the OpenAI-style JSON error for err and returns the
// status; for a client that left (statusClientGone) it writes nothing.
func writeError(w http.ResponseWriter, err error) int {
	status := statusFor(err)
	if status == statusClientGone {
		return status
	}
	return writeErrorStatus(w, status, err.Error())
}

// writeErrorStatus writes an OpenAI-style error with this status and message.
func writeErrorStatus(w http.ResponseWriter, status int, msg string) int {
	writeJSON(w, status, newErrorBody(status, errorType(status), msg))
	return status
}

func newErrorBody(status int, typ, msg string) errorBody {
	var b errorBody
	b.Error.Message, b.Error.Type, b.Error.Code = msg, typ, status
	return b
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status, data = http.StatusInternalServerError, []byte(`{"error":{"message":"encoding failed","type":"internal_error","code":500}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
}
