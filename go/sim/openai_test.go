package sim

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// keys returns the sorted keys of a JSON object.
func keys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}

func obj(t *testing.T, v any) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%v is not an object", v)
	}
	return m
}

func TestChatCompletion(t *testing.T) {
	_, ts := testServer(t, Config{})
	code, body := post(t, ts.URL+"/v1/chat/completions", `{"model": "m1", "messages": [
		{"role": "system", "content": "be brief"},
		{"role": "user", "content": [{"type": "text", "text": "hello"}, {"type": "image_url", "image_url": {}}]}
	], "max_tokens": 4, "n": 2}`)
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	var resp map[string]any
	mustUnmarshal(t, body, &resp)
	if got := keys(resp); !slices.Equal(got, []string{"choices", "created", "id", "model", "object", "usage"}) {
		t.Fatalf("keys %v", got)
	}
	if resp["object"] != "chat.completion" || resp["model"] != "m1" || !strings.HasPrefix(resp["id"].(string), "chatcmpl-") {
		t.Fatalf("header fields %v", resp)
	}
	choices := resp["choices"].([]any)
	if len(choices) != 2 {
		t.Fatalf("%d choices", len(choices))
	}
	for i, c := range choices {
		ch := obj(t, c)
		msg := obj(t, ch["message"])
		if ch["index"] != float64(i) || ch["finish_reason"] != "length" || msg["role"] != "assistant" || len(strings.Fields(msg["content"].(string))) != 4 {
			t.Fatalf("choice %d: %v", i, ch)
		}
	}
	// The prompt "<|system|> be brief <|end|> <|user|> hello <|end|> <|assistant|>"
	// is 8 tokens, counted once for n=2.
	u := obj(t, resp["usage"])
	if u["prompt_tokens"] != 8.0 || u["completion_tokens"] != 8.0 || u["total_tokens"] != 16.0 || obj(t, u["prompt_tokens_details"])["cached_tokens"] != 0.0 {
		t.Fatalf("usage %v", u)
	}
}

func TestChatMaxCompletionTokensWins(t *testing.T) {
	_, ts := testServer(t, Config{})
	_, body := post(t, ts.URL+"/v1/chat/completions", `{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 9, "max_completion_tokens": 2}`)
	var resp map[string]any
	mustUnmarshal(t, body, &resp)
	if u := obj(t, resp["usage"]); u["completion_tokens"] != 2.0 {
		t.Fatalf("usage %v", u)
	}
	if resp["model"] != "sim-model" {
		t.Fatalf("model %v, want the served model when the request names none", resp["model"])
	}
}

func TestChatStream(t *testing.T) {
	_, ts := testServer(t, Config{})
	code, body := post(t, ts.URL+"/v1/chat/completions", `{"model": "m", "messages": [{"role": "user", "content": "hi"}],
		"max_tokens": 3, "stream": true, "stream_options": {"include_usage": true}}`)
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	events := sseEvents(t, body)
	// role chunk, 3 content chunks, finish chunk, usage chunk, [DONE]
	if len(events) != 7 {
		t.Fatalf("%d events: %q", len(events), events)
	}
	var text strings.Builder
	id := ""
	for i, ev := range events[:6] {
		var c map[string]any
		mustUnmarshal(t, []byte(ev), &c)
		if c["object"] != "chat.completion.chunk" || (id != "" && c["id"] != id) {
			t.Fatalf("chunk %d: %v", i, c)
		}
		id = c["id"].(string)
		choices := c["choices"].([]any)
		if i == 5 {
			if len(choices) != 0 || obj(t, c["usage"])["completion_tokens"] != 3.0 {
				t.Fatalf("usage chunk %v", c)
			}
			continue
		}
		ch := obj(t, choices[0])
		delta := obj(t, ch["delta"])
		switch {
		case i == 0 && (delta["role"] != "assistant" || delta["content"] != ""):
			t.Fatalf("first chunk must carry the role: %v", ch)
		case i == 4 && (ch["finish_reason"] != "length" || len(delta) != 0):
			t.Fatalf("last chunk %v", ch)
		case i < 4 && ch["finish_reason"] != nil:
			t.Fatalf("chunk %d finished early: %v", i, ch)
		}
		if s, ok := delta["content"].(string); ok {
			text.WriteString(s)
		}
	}
	if len(strings.Fields(text.String())) != 3 {
		t.Fatalf("streamed text %q", text.String())
	}
}

func TestChatStreamWithoutUsage(t *testing.T) {
	_, ts := testServer(t, Config{})
	_, body := post(t, ts.URL+"/v1/chat/completions", `{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 1, "stream": true}`)
	for _, ev := range sseEvents(t, body) {
		if strings.Contains(ev, `"usage"`) {
			t.Fatalf("usage sent without include_usage: %s", ev)
		}
	}
}

func TestCompletion(t *testing.T) {
	_, ts := testServer(t, Config{})
	cases := []struct {
		name, prompt     string
		choices, prompts int
	}{
		{"string", `"a b c"`, 1, 3},
		{"list of strings", `["a b", "c d"]`, 2, 4},
		{"token ids", `[1, 2, 3, 4]`, 1, 4},
		{"lists of token ids", `[[1, 2], [3]]`, 2, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := post(t, ts.URL+"/v1/completions", `{"model": "m", "prompt": `+tc.prompt+`}`)
			if code != http.StatusOK {
				t.Fatalf("status %d: %s", code, body)
			}
			var resp map[string]any
			mustUnmarshal(t, body, &resp)
			if resp["object"] != "text_completion" || !strings.HasPrefix(resp["id"].(string), "cmpl-") {
				t.Fatalf("resp %v", resp)
			}
			choices := resp["choices"].([]any)
			if len(choices) != tc.choices {
				t.Fatalf("%d choices", len(choices))
			}
			ch := obj(t, choices[0])
			if got := keys(ch); !slices.Equal(got, []string{"finish_reason", "index", "logprobs", "text"}) {
				t.Fatalf("choice keys %v", got)
			}
			u := obj(t, resp["usage"])
			if u["prompt_tokens"] != float64(tc.prompts) || u["completion_tokens"] != float64(16*tc.choices) {
				t.Fatalf("usage %v (default max_tokens is 16)", u)
			}
		})
	}
}

func TestCompletionStream(t *testing.T) {
	_, ts := testServer(t, Config{})
	_, body := post(t, ts.URL+"/v1/completions", `{"prompt": "x", "max_tokens": 2, "stream": true}`)
	events := sseEvents(t, body)
	if len(events) != 4 { // 2 tokens, finish, [DONE]
		t.Fatalf("events %q", events)
	}
	var last map[string]any
	mustUnmarshal(t, []byte(events[2]), &last)
	if last["object"] != "text_completion" || obj(t, last["choices"].([]any)[0])["finish_reason"] != "length" {
		t.Fatalf("final chunk %v", last)
	}
}

func TestChatBadRequests(t *testing.T) {
	_, ts := testServer(t, Config{})
	for name, body := range map[string]string{
		"no messages": `{"messages": []}`,
		"n too large": `{"messages": [{"role": "user", "content": "x"}], "n": 1000}`,
		"bad content": `{"messages": [{"role": "user", "content": 5}]}`,
	} {
		if code, resp := post(t, ts.URL+"/v1/chat/completions", body); code != http.StatusBadRequest {
			t.Fatalf("%s: status %d %s", name, code, resp)
		}
	}
}
