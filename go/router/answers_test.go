package router

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"go.uber.org/zap"

	"github.com/sgl-project/sglang-router-go/go/policy"
	"github.com/sgl-project/sglang-router-go/go/proxy"
	"github.com/sgl-project/sglang-router-go/go/upstream"
	"github.com/sgl-project/sglang-router-go/go/worker"
)

// answerCounter counts answers recorded and skipped.
type answerCounter struct {
	nopRecorder
	recorded, skipped *atomic.Int64
}

func (r answerCounter) RecordAnswer(ok bool) {
	if ok {
		r.recorded.Add(1)
	} else {
		r.skipped.Add(1)
	}
}

// longAnswer is a coding assistant's answer: far longer than the question
// that follows it, with quotes, newlines and non-ASCII text to unescape.
var longAnswer = strings.Repeat("Use \"slices.Reverse(s)\"; it reverses in place.\n日本語 ", 40)

// chatWorker answers chat completions with longAnswer, whole or streamed
// (a few characters per event); a question containing "break" gets a
// stream that breaks off, one containing "fail" a 500.
func chatWorker(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req struct {
			Stream   bool `json:"stream"`
			Messages []struct {
				Content string `json:"content"`
			} `json:"messages"`
		}
		_ = json.Unmarshal(body, &req)
		last := req.Messages[len(req.Messages)-1].Content
		switch {
		case strings.Contains(last, "fail"):
			http.Error(w, `{"error":"boom"}`, http.StatusInternalServerError)
		case !req.Stream:
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"id": "c", "object": "chat.completion",
				"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": longAnswer}, "finish_reason": "stop"}}})
		default:
			w.Header().Set("Content-Type", "text/event-stream")
			f := w.(http.Flusher)
			runes := []rune(longAnswer)
			for i := 0; i < len(runes); i += 7 {
				piece := string(runes[i:min(i+7, len(runes))])
				b, _ := json.Marshal(map[string]any{"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": piece}}}})
				fmt.Fprintf(w, "data: %s\n\n", b)
				f.Flush()
				if i > len(runes)/2 && strings.Contains(last, "break") {
					panic(http.ErrAbortHandler)
				}
			}
			fmt.Fprint(w, "data: [DONE]\n\n")
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// answerFixture is a cache_aware router with decision headers in front of
// four chat workers.
func answerFixture(t *testing.T, maxInsert int) (*fixture, answerCounter) {
	opts := testOptions()
	opts.DecisionHeaders, opts.MaxAnswerInsert = true, maxInsert
	opts.Retry.MaxRetries = 0
	f := &fixture{t: t, pool: &Pool{Role: worker.Regular, Registry: worker.NewRegistry(), Policy: policy.NewCacheAware(policy.DefaultOptions())}}
	for range 4 {
		w := worker.New(chatWorker(t).URL, worker.Regular, nil)
		w.SetHealthy(true)
		if err := f.pool.Registry.Add(w); err != nil {
			t.Fatal(err)
		}
	}
	rec := answerCounter{recorded: new(atomic.Int64), skipped: new(atomic.Int64)}
	client := &http.Client{Transport: proxy.NewTransport()}
	f.rt = New(opts, Deps{Regular: f.pool, Client: client, Plain: upstream.New(upstream.Options{}), Recorder: rec, Log: zap.NewNop()})
	f.srv = newFrontServer(t, f.rt)
	t.Cleanup(f.srv.Close)
	t.Cleanup(client.CloseIdleConnections)
	return f, rec
}

type chatMsg struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

func chatBody(stream bool, msgs ...chatMsg) string {
	b, _ := json.Marshal(map[string]any{"model": "m", "stream": stream, "messages": msgs})
	return string(b)
}

// TestAnswerRecordingMakesTheNextTurnHit: the second turn of a
// conversation resends the first answer (long) and asks a short question;
// it matches the worker that wrote the answer (cache_hit) once the router
// recorded it, streamed or not, and is a miss when recording is off.
func TestAnswerRecordingMakesTheNextTurnHit(t *testing.T) {
	for _, stream := range []bool{false, true} {
		for _, maxInsert := range []int{0, 64 << 10} {
			t.Run(fmt.Sprintf("stream=%v/max=%d", stream, maxInsert), func(t *testing.T) {
				f, rec := answerFixture(t, maxInsert)
				sys := chatMsg{"system", "You are a coding assistant."}
				q1 := chatMsg{"user", "How do I reverse a slice in Go?"}
				resp, got := f.do(http.MethodPost, "/v1/chat/completions", chatBody(stream, sys, q1))
				first := resp.Header.Get(HeaderWorker)
				if resp.StatusCode != http.StatusOK || first == "" {
					t.Fatalf("turn 1: %d from %q: %s", resp.StatusCode, first, got)
				}
				if maxInsert > 0 {
					waitFor(t, "the answer recorded", func() bool { return rec.recorded.Load() == 1 })
				}
				resp, _ = f.do(http.MethodPost, "/v1/chat/completions",
					chatBody(stream, sys, q1, chatMsg{"assistant", longAnswer}, chatMsg{"user", "And a string?"}))
				worker, why := resp.Header.Get(HeaderWorker), resp.Header.Get(HeaderReason)
				switch {
				case maxInsert > 0 && (worker != first || why != "cache_hit"):
					t.Errorf("turn 2 went to %s (%s), want %s by cache_hit", worker, why, first)
				case maxInsert == 0 && why != "cache_miss":
					t.Errorf("turn 2 without recording: %s, want cache_miss (the test's premise)", why)
				case maxInsert == 0 && rec.recorded.Load()+rec.skipped.Load() != 0:
					t.Errorf("recording off, yet answers were read: %d recorded, %d skipped", rec.recorded.Load(), rec.skipped.Load())
				}
			})
		}
	}
}

// TestAnswersNotRecordedWhenCutOrFailed: a stream that breaks off, an
// error status or an answer over the cap records nothing, so the next
// turn is a miss.
func TestAnswersNotRecordedWhenCutOrFailed(t *testing.T) {
	for _, tc := range []struct {
		name      string
		question  string
		stream    bool
		maxInsert int
		skipped   int64 // answers read and skipped (an error status is not read at all)
	}{
		{"broken stream", "break please", true, 64 << 10, 1},
		{"error status", "fail please", false, 64 << 10, 0},
		{"over the cap", "fine", false, len(longAnswer) - 1, 1},
		{"streamed over the cap", "fine", true, len(longAnswer) - 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, rec := answerFixture(t, tc.maxInsert)
			q1 := chatMsg{"user", "How do I reverse a slice in Go? " + tc.question}
			f.do(http.MethodPost, "/v1/chat/completions", chatBody(tc.stream, q1))
			waitFor(t, "the answer read", func() bool { return rec.skipped.Load() == tc.skipped })
			recorded := rec.recorded.Load()
			resp, _ := f.do(http.MethodPost, "/v1/chat/completions",
				chatBody(tc.stream, q1, chatMsg{"assistant", longAnswer}, chatMsg{"user", "And a string?"}))
			if why := resp.Header.Get(HeaderReason); why != "cache_miss" || recorded != 0 {
				t.Errorf("turn 2: %s with %d answers recorded; want cache_miss, none", why, recorded)
			}
		})
	}
}

// TestShortAnswerToALongPromptIsNotRecorded: an answer under
// 1/minAnswerShare of its text is not worth a walk over the whole text;
// the next turn still finds the worker by the text recorded when the
// request was routed.
func TestShortAnswerToALongPromptIsNotRecorded(t *testing.T) {
	f, rec := answerFixture(t, 64<<10)
	doc := chatMsg{"user", "Summarise: " + strings.Repeat("a long document, ", minAnswerShare*len(longAnswer)/17+1)}
	resp, _ := f.do(http.MethodPost, "/v1/chat/completions", chatBody(false, doc))
	first := resp.Header.Get(HeaderWorker)
	waitFor(t, "the answer read", func() bool { return rec.skipped.Load() == 1 })
	resp, _ = f.do(http.MethodPost, "/v1/chat/completions",
		chatBody(false, doc, chatMsg{"assistant", longAnswer}, chatMsg{"user", "Shorter?"}))
	worker, why := resp.Header.Get(HeaderWorker), resp.Header.Get(HeaderReason)
	if rec.recorded.Load() != 0 || worker != first || why != "cache_hit" {
		t.Errorf("turn 2 went to %s (%s) with %d answers recorded; want %s by cache_hit, none recorded",
			worker, why, rec.recorded.Load(), first)
	}
}

// TestAnswersRecordedInBothPDTrees: in PD mode the answer is recorded for
// the prefill worker in the prefill pool's tree and for the decode worker
// in the decode pool's.
func TestAnswersRecordedInBothPDTrees(t *testing.T) {
	opts := testOptions()
	opts.MaxAnswerInsert = 64 << 10
	f := newPDFixture(t, opts, 2, 2)
	pols := [2]*policy.CacheAware{}
	for i, p := range f.admin.pools {
		pols[i] = policy.NewCacheAware(policy.DefaultOptions())
		p.Policy = pols[i]
	}
	rec := answerCounter{recorded: new(atomic.Int64), skipped: new(atomic.Int64)}
	client := &http.Client{Transport: proxy.NewTransport()}
	f.rt = New(opts, Deps{Prefill: f.admin.pools[0], Decode: f.admin.pools[1], Client: client, Plain: upstream.New(upstream.Options{}), Recorder: rec, Log: zap.NewNop()})
	srv := newFrontServer(t, f.rt)
	t.Cleanup(srv.Close)
	f.srv = srv
	const prompt = "Once upon a time"
	resp, body := f.do(http.MethodPost, "/generate", `{"text":"`+prompt+`"}`)
	var got struct{ Text string }
	if err := json.Unmarshal([]byte(body), &got); resp.StatusCode != http.StatusOK || err != nil || got.Text == "" {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	waitFor(t, "the answer recorded", func() bool { return rec.recorded.Load() == 1 })
	want := len(prompt + got.Text)
	for i, pol := range pols {
		found := false
		for url, n := range pol.TreeSizes() {
			found = found || n == want
			if n != want && n != 0 {
				t.Errorf("%s tree holds %d characters for %s, want %d or none", f.admin.pools[i].Role, n, url, want)
			}
		}
		if !found {
			t.Errorf("%s tree: %v, want a worker with %d characters (the prompt and its answer)", f.admin.pools[i].Role, pol.TreeSizes(), want)
		}
	}
}
