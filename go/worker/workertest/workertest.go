// Package workertest is a fake SGLang worker on httptest for unit tests of
// any package: it answers the routes a router uses, records every request,
// and can be told to fail, hang or go unhealthy.
package workertest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// Request is what the fake worker received.
type Request struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// Worker is a fake SGLang server. Its zero knobs mean "healthy, answer 200".
type Worker struct {
	*httptest.Server
	Name string

	// StreamEvents is how many SSE events a streamed answer has (default 3).
	StreamEvents atomic.Int32
	// Load is what GET /get_load reports.
	Load atomic.Int64
	// Gate, when set before the worker serves, holds every stream event
	// after the first until a value is received from it, so a test can
	// prove that events reach the client one by one.
	Gate chan struct{}
	// BreakAfter, when positive, makes generation answers break off as a
	// crashing worker's would, by dropping the connection: a stream after
	// that many events, a plain answer after the first half of its body.
	BreakAfter atomic.Int32

	healthStatus atomic.Int32 // status of /health; 0 = 200
	failStatus   atomic.Int32 // status of generation routes; 0 = normal answer
	hang         atomic.Bool  // generation routes block until the client leaves
	served       atomic.Int64
	others       atomic.Int64 // answers of the other routes (ids)

	model atomic.Pointer[string] // what /v1/models and /get_model_info name; nil: "fake-model"

	mu       sync.Mutex // guards requests
	requests []Request
}

// SetModel sets the model the worker names (default "fake-model").
func (w *Worker) SetModel(name string) { w.model.Store(&name) }

// Model is the model the worker names.
func (w *Worker) Model() string {
	if p := w.model.Load(); p != nil {
		return *p
	}
	return "fake-model"
}

// New starts a fake worker that is closed when the test ends.
func New(t testing.TB, name string) *Worker {
	w := &Worker{Name: name}
	w.StreamEvents.Store(3)
	w.Server = httptest.NewServer(http.HandlerFunc(w.serve))
	t.Cleanup(w.Close)
	return w
}

// SetHealthy makes /health answer 200 (true) or 503 (false).
func (w *Worker) SetHealthy(ok bool) {
	if ok {
		w.healthStatus.Store(0)
	} else {
		w.healthStatus.Store(http.StatusServiceUnavailable)
	}
}

// FailWith makes generation routes answer status (0 restores normal answers).
func (w *Worker) FailWith(status int) { w.failStatus.Store(int32(status)) }

// Hang makes generation routes block until the client disconnects.
func (w *Worker) Hang(on bool) { w.hang.Store(on) }

// Served counts generation requests answered successfully.
func (w *Worker) Served() int64 { return w.served.Load() }

// Requests returns a copy of what was received so far.
func (w *Worker) Requests() []Request {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Request(nil), w.requests...)
}

// Count returns how many requests hit path.
func (w *Worker) Count(path string) int {
	n := 0
	for _, r := range w.Requests() {
		if r.Path == path {
			n++
		}
	}
	return n
}

func (w *Worker) serve(rw http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.mu.Lock()
	w.requests = append(w.requests, Request{r.Method, r.URL.Path, r.Header.Clone(), body})
	w.mu.Unlock()

	switch r.URL.Path {
	case "/health", "/health_generate":
		if s := w.healthStatus.Load(); s != 0 {
			rw.WriteHeader(int(s))
			return
		}
		rw.WriteHeader(http.StatusOK)
	case "/generate", "/v1/chat/completions", "/v1/completions":
		w.generate(rw, r, body)
	case "/get_load":
		writeJSON(rw, http.StatusOK, map[string]any{"num_reqs": w.Load.Load(), "worker": w.Name})
	case "/flush_cache":
		rw.WriteHeader(http.StatusOK)
	case "/v1/models":
		writeJSON(rw, http.StatusOK, map[string]any{"object": "list", "data": []any{map[string]any{"id": w.Model(), "object": "model", "owned_by": w.Name}}})
	case "/get_model_info":
		writeJSON(rw, http.StatusOK, map[string]any{"model_path": w.Model(), "worker": w.Name})
	case "/get_server_info":
		writeJSON(rw, http.StatusOK, map[string]any{"worker": w.Name})
	default:
		// Any other route SGLang serves: a JSON answer naming the worker,
		// the path and a response id unique to the worker.
		writeJSON(rw, http.StatusOK, map[string]any{"id": fmt.Sprintf("resp_%s_%d", w.Name, w.others.Add(1)), "worker": w.Name, "path": r.URL.Path})
	}
}

func (w *Worker) generate(rw http.ResponseWriter, r *http.Request, body []byte) {
	if w.hang.Load() {
		<-r.Context().Done()
		return
	}
	if s := w.failStatus.Load(); s != 0 {
		writeJSON(rw, int(s), map[string]any{"error": "injected failure", "worker": w.Name})
		return
	}
	var req struct {
		Stream        bool `json:"stream"`
		ReturnLogprob bool `json:"return_logprob"`
	}
	_ = json.Unmarshal(body, &req)
	meta := map[string]any{"prompt_tokens": len(body), "completion_tokens": 3}
	if req.ReturnLogprob {
		// One entry naming this worker, so a test can see whose logprobs a merged answer holds.
		meta["input_token_logprobs"] = []any{[]any{-1.0, 1, w.Name}}
	}
	if !req.Stream {
		answer := map[string]any{"text": "hello from " + w.Name, "worker": w.Name, "meta_info": meta}
		if w.BreakAfter.Load() > 0 {
			breakOff(rw, answer)
		}
		w.served.Add(1)
		writeJSON(rw, http.StatusOK, answer)
		return
	}
	w.stream(rw, r, meta)
}

// stream writes StreamEvents chat-completion chunks and [DONE], flushing each.
func (w *Worker) stream(rw http.ResponseWriter, r *http.Request, meta map[string]any) {
	rw.Header().Set("Content-Type", "text/event-stream")
	rw.WriteHeader(http.StatusOK)
	f := rw.(http.Flusher)
	n := int(w.StreamEvents.Load())
	for i := 0; i < n; i++ {
		if i > 0 && w.Gate != nil {
			select {
			case <-w.Gate:
			case <-r.Context().Done():
				return
			}
		}
		chunk := map[string]any{"id": "cmpl-" + w.Name, "object": "chat.completion.chunk", "created": 0, "model": "fake-model",
			"worker": w.Name, "meta_info": meta, "choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": fmt.Sprintf("tok%d ", i)}, "finish_reason": nil}}}
		b, _ := json.Marshal(chunk)
		if _, err := fmt.Fprintf(rw, "data: %s\n\n", b); err != nil {
			return
		}
		f.Flush()
		if r.Context().Err() != nil {
			return
		}
		if b := int(w.BreakAfter.Load()); b > 0 && i+1 == b {
			panic(http.ErrAbortHandler)
		}
	}
	io.WriteString(rw, "data: [DONE]\n\n")
	f.Flush()
	w.served.Add(1)
}

func writeJSON(rw http.ResponseWriter, status int, v any) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(v)
}

// breakOff announces answer's full length, sends its first half and drops
// the connection.
func breakOff(rw http.ResponseWriter, answer any) {
	b, _ := json.Marshal(answer)
	rw.Header().Set("Content-Type", "application/json")
	rw.Header().Set("Content-Length", fmt.Sprint(len(b)))
	rw.WriteHeader(http.StatusOK)
	_, _ = rw.Write(b[:len(b)/2])
	rw.(http.Flusher).Flush()
	panic(http.ErrAbortHandler)
}
