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
	"sync"
)

// fastWorker answers as quickly as it can: a small JSON for /generate, and
// Events SSE events for streamed chat completions. It reads the whole body,
// as a real server would, into a recycled buffer.
type fastWorker struct {
	Events int
	event  []byte
	answer []byte
}

// bodyBufs are fastWorker's read buffers. With io.ReadAll a 400 KB prompt
// cost the benchmark's process about 1 MB of fresh, zeroed memory (the
// slice doubles as it grows) and the collections that follow: the workers
// became the bottleneck of the 400 KB scenarios, and that traffic, beside
// the router on the same two cores, varied what the router's own memory
// reads cost from run to run (cache_aware's comparison of the prompt with
// the tree is one).
var bodyBufs = sync.Pool{New: func() any { return new([64 << 10]byte) }}

// readBody reads r whole into buf and returns what of it is kept: all of a
// body that fits, else its first half of buf (only the small chat bodies
// are looked into).
func readBody(r io.Reader, buf []byte) []byte {
	n, err := io.ReadFull(r, buf)
	if err != nil {
		return buf[:n]
	}
	head, rest := buf[:len(buf)/2], buf[len(buf)/2:]
	k, err := r.Read(rest)
	for k == 0 && err == nil {
		k, err = r.Read(rest)
	}
	if k == 0 {
		return buf // it fitted exactly
	}
	for err == nil {
		_, err = r.Read(rest)
	}
	return head
}

func newFastWorker(events int) *fastWorker {
	return &fastWorker{
		Events: events,
		event:  []byte(`data: {"id":"c","object":"chat.completion.chunk","created":0,"model":"m","choices":[{"index":0,"delta":{"content":"tok "},"finish_reason":null}]}` + "\n\n"),
		answer: []byte(`{"text":"ok","meta_info":{"prompt_tokens":5,"completion_tokens":1,"cached_tokens":0}}`),
	}
}

func (f *fastWorker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	buf := bodyBufs.Get().(*[64 << 10]byte)
	defer bodyBufs.Put(buf)
	body := readBody(r.Body, buf[:])
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
