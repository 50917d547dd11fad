package sim

import (
	"encoding/json"
	"net/http"
	"sync"
)

// formatter renders a request's answer in its route's format.
type formatter interface {
	// events are the SSE payloads after job j progressed.
	events(j *job, done bool) [][]byte
	// tail is the payloads sent after every job ended, before [DONE].
	tail() [][]byte
	// body is the non-streamed answer, once every job ended.
	body() any
}

func (s *Server) format(req *request, jobs []*job) formatter {
	switch req.kind {
	case kindChat:
		return s.newOpenAIFormat(req, jobs, true)
	case kindCompletion:
		return s.newOpenAIFormat(req, jobs, false)
	case kindResponses:
		return s.newResponsesFormat(req, jobs)
	case kindMessages:
		return s.newMessagesFormat(req, jobs)
	default:
		return s.newGenerateFormat(req, jobs)
	}
}

// namedEvents is implemented by formats whose events are whole SSE frames
// with event names ("event: NAME\ndata: JSON\n\n") and whose stream ends
// without [DONE] (Responses, Anthropic Messages).
type namedEvents interface{ named() }

// sseWriter writes Server-Sent Events ("data: ...\n\n"), flushing each
// one. Jobs of a batch send concurrently; mu serialises them.
type sseWriter struct {
	mu      sync.Mutex
	w       http.ResponseWriter
	started bool
	framed  bool // payloads are whole frames (namedEvents)
}

func newSSEWriter(w http.ResponseWriter) *sseWriter { return &sseWriter{w: w} }

// send writes each payload as one event; the first call sends the headers.
func (sw *sseWriter) send(payloads ...[]byte) error {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if !sw.started {
		h := sw.w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-cache")
		sw.w.WriteHeader(http.StatusOK)
		sw.started = true
	}
	for _, p := range payloads {
		buf := p
		if !sw.framed {
			buf = make([]byte, 0, len(p)+8)
			buf = append(append(append(buf, "data: "...), p...), "\n\n"...)
		}
		if _, err := sw.w.Write(buf); err != nil {
			return err
		}
	}
	if f, ok := sw.w.(http.Flusher); ok {
		f.Flush()
	}
	return nil
}

func (sw *sseWriter) sendRaw(p []byte) error { return sw.send(p) }

// mustJSON marshals values the simulator builds itself, which always encode.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
