// Package bench measures the router. The overhead benchmark sends the same
// load straight to a fast fake worker and through the router, on loopback,
// in one run, so the routed/direct ratios are comparable. The routing
// benchmark (and the demo, a preset of it) replays workloads through each
// policy in front of simulated SGLang servers and reports cache hit rate,
// time to first token and balance against an oracle.
package bench

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// fastWorker answers as quickly as it can: a small JSON for /generate, and
// Events SSE events for streamed chat completions. It reads the whole body,
// as a real server would.
type fastWorker struct {
	Events int
	event  []byte
	answer []byte
}

func newFastWorker(events int) *fastWorker {
	return &fastWorker{
		Events: events,
		event:  []byte(`data: {"id":"c","object":"chat.completion.chunk","created":0,"model":"m","choices":[{"index":0,"delta":{"content":"tok "},"finish_reason":null}]}` + "\n\n"),
		answer: []byte(`{"text":"ok","meta_info":{"prompt_tokens":5,"completion_tokens":1,"cached_tokens":0}}`),
	}
}

func (f *fastWorker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	switch r.URL.Path {
	case "/health":
		w.WriteHeader(http.StatusOK)
	case "/v1/models": // the router learns the worker's model when it joins
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"object":"list","data":[{"id":"m","object":"model"}]}`)
	case "/generate", "/v1/completions":
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(f.answer)))
		_, _ = w.Write(f.answer)
	case "/v1/chat/completions":
		if !strings.Contains(string(body), `"stream":true`) {
			_, _ = w.Write(f.answer)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		for i := 0; i < f.Events; i++ {
			_, _ = w.Write(f.event)
			fl.Flush()
		}
		_, _ = io.WriteString(w, "data: [DONE]\n\n")
	default:
		http.Error(w, fmt.Sprintf("no route %s", r.URL.Path), http.StatusNotFound)
	}
}
