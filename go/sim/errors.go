package sim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// httpError is a failure with the status and OpenAI-style type it is
// answered with.
type httpError struct {
	status int
	kind   string
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &httpError{http.StatusBadRequest, "invalid_request_error", fmt.Sprintf(format, args...)}
}

func bootstrapError(format string, args ...any) error {
	return &httpError{http.StatusInternalServerError, "bootstrap_error", fmt.Sprintf(format, args...)}
}

// errorBody is the JSON error shape: {"error": {"message", "type", "code"}},
// which the openai client and the router both read.
type errorBody struct {
	Error struct {
		Message string `json:"message"`
		Type    string `json:"type"`
		Code    int    `json:"code"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, kind, msg string) {
	var b errorBody
	b.Error.Message, b.Error.Type, b.Error.Code = msg, kind, status
	writeJSON(w, status, b)
}

// writeErr answers err with its own status, or 500.
func writeErr(w http.ResponseWriter, err error) {
	if he, ok := err.(*httpError); ok {
		writeError(w, he.status, he.kind, he.msg)
		return
	}
	writeError(w, http.StatusInternalServerError, "internal_error", err.Error())
}

// writeJSON writes v with an explicit Content-Length.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"error":{"message":"cannot encode the response","type":"internal_error","code":500}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
