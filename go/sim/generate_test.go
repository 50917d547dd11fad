package sim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// genResp is /generate's answer as a client reads it.
type genResp struct {
	Text      string `json:"text"`
	OutputIDs []int  `json:"output_ids"`
	Index     *int   `json:"index"`
	MetaInfo  struct {
		ID                  string           `json:"id"`
		PromptTokens        int              `json:"prompt_tokens"`
		CompletionTokens    int              `json:"completion_tokens"`
		CachedTokens        int              `json:"cached_tokens"`
		E2ELatency          *float64         `json:"e2e_latency"`
		FinishReason        *json.RawMessage `json:"finish_reason"`
		InputTokenLogprobs  [][]any          `json:"input_token_logprobs"`
		OutputTokenLogprobs [][]any          `json:"output_token_logprobs"`
	} `json:"meta_info"`
}

func TestGenerateShapes(t *testing.T) {
	_, ts := testServer(t, Config{BlockSize: 4})
	cases := []struct {
		name               string
		body               string
		batch              int // 0: a single object
		prompt, completion int
	}{
		{"text", `{"text": "a b c d e", "sampling_params": {"max_new_tokens": 3}}`, 0, 5, 3},
		{"text batch", `{"text": ["a b", "c d"], "sampling_params": {"max_new_tokens": 2}}`, 2, 2, 2},
		{"input_ids", `{"input_ids": [1, 2, 3], "sampling_params": {"max_new_tokens": 4}}`, 0, 3, 4},
		{"input_ids batch", `{"input_ids": [[1, 2], [3, 4]], "sampling_params": {"max_new_tokens": 1}}`, 2, 2, 1},
		{"default max_new_tokens", `{"text": "x"}`, 0, 1, 128},
		{"zero new tokens", `{"text": "x y", "sampling_params": {"max_new_tokens": 0}}`, 0, 2, 0},
		{"unknown fields ignored", `{"text": "x", "rid": "abc", "lora_path": null, "sampling_params": {"max_new_tokens": 1, "temperature": 0}}`, 0, 1, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := post(t, ts.URL+"/generate", tc.body)
			if code != http.StatusOK {
				t.Fatalf("status %d: %s", code, body)
			}
			var list []genResp
			if tc.batch > 0 {
				mustUnmarshal(t, body, &list)
			} else {
				var one genResp
				mustUnmarshal(t, body, &one)
				list = []genResp{one}
			}
			if len(list) != max(tc.batch, 1) {
				t.Fatalf("%d results", len(list))
			}
			for _, r := range list {
				checkGenerateResult(t, r, tc.prompt, tc.completion)
			}
		})
	}
}

func checkGenerateResult(t *testing.T, r genResp, prompt, completion int) {
	t.Helper()
	m := r.MetaInfo
	if m.ID == "" || m.E2ELatency == nil || m.PromptTokens != prompt || m.CompletionTokens != completion || len(r.OutputIDs) != completion {
		t.Fatalf("result %+v", r)
	}
	if m.FinishReason == nil || string(*m.FinishReason) != fmt.Sprintf(`{"type":"length","length":%d}`, completion) {
		t.Fatalf("finish_reason %s", *m.FinishReason)
	}
	if got := len(strings.Fields(r.Text)); got != completion {
		t.Fatalf("text %q has %d words, want %d", r.Text, got, completion)
	}
}

func TestGenerateCachedTokensOnRepeat(t *testing.T) {
	s, ts := testServer(t, Config{BlockSize: 4})
	body := fmt.Sprintf(`{"text": %q, "sampling_params": {"max_new_tokens": 2}}`, words(0, 30))
	var first, second genResp
	_, b1 := post(t, ts.URL+"/generate", body)
	mustUnmarshal(t, b1, &first)
	_, b2 := post(t, ts.URL+"/generate", body)
	mustUnmarshal(t, b2, &second)
	if first.MetaInfo.CachedTokens != 0 || second.MetaInfo.CachedTokens != 28 {
		t.Fatalf("cached %d then %d, want 0 then 28", first.MetaInfo.CachedTokens, second.MetaInfo.CachedTokens)
	}
	if first.Text != second.Text {
		t.Fatal("output must be deterministic")
	}
	st := s.Stats()
	if st.Requests != 2 || st.PromptTokens != 60 || st.CachedTokens != 28 || st.GenerationTokens != 4 {
		t.Fatalf("stats %+v", st)
	}
}

func TestGenerateLogprobs(t *testing.T) {
	_, ts := testServer(t, Config{})
	_, body := post(t, ts.URL+"/generate", `{"input_ids": [5, 6, 7], "return_logprob": true, "sampling_params": {"max_new_tokens": 2}}`)
	var r genResp
	mustUnmarshal(t, body, &r)
	in, out := r.MetaInfo.InputTokenLogprobs, r.MetaInfo.OutputTokenLogprobs
	if len(in) != 3 || len(out) != 2 {
		t.Fatalf("logprobs %v / %v", in, out)
	}
	if in[0][0] != nil || in[0][1] != 5.0 || in[0][2] != nil || in[1][0] == nil {
		t.Fatalf("input logprobs %v: want [null, 5, null] first", in)
	}
	if out[1][1] != float64(r.OutputIDs[1]) || out[1][0].(float64) > 0 {
		t.Fatalf("output logprobs %v for ids %v", out, r.OutputIDs)
	}
}

func TestGenerateStream(t *testing.T) {
	_, ts := testServer(t, Config{})
	code, body := post(t, ts.URL+"/generate", `{"text": "a b c", "stream": true, "return_logprob": true, "sampling_params": {"max_new_tokens": 3}}`)
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	events := sseEvents(t, body)
	if len(events) != 4 {
		t.Fatalf("%d events, want 3 tokens + [DONE]", len(events))
	}
	prev := ""
	for i, ev := range events[:3] {
		var r genResp
		mustUnmarshal(t, []byte(ev), &r)
		if !strings.HasPrefix(r.Text, prev) || r.MetaInfo.CompletionTokens != i+1 || len(r.MetaInfo.OutputTokenLogprobs) != i+1 {
			t.Fatalf("event %d not cumulative: %s", i, ev)
		}
		if len(r.MetaInfo.InputTokenLogprobs) != 3 {
			t.Fatalf("event %d lacks input logprobs", i)
		}
		if last := i == 2; last != (r.MetaInfo.FinishReason != nil && string(*r.MetaInfo.FinishReason) != "null") {
			t.Fatalf("event %d finish_reason %v", i, r.MetaInfo.FinishReason)
		}
		prev = r.Text
	}
}

func TestGenerateStreamBatchCarriesIndex(t *testing.T) {
	_, ts := testServer(t, Config{})
	_, body := post(t, ts.URL+"/generate", `{"text": ["a", "b c"], "stream": true, "sampling_params": {"max_new_tokens": 2}}`)
	events := sseEvents(t, body)
	seen := map[int]int{}
	for _, ev := range events[:len(events)-1] {
		var r genResp
		mustUnmarshal(t, []byte(ev), &r)
		if r.Index == nil {
			t.Fatalf("batch event without index: %s", ev)
		}
		seen[*r.Index]++
	}
	if seen[0] != 2 || seen[1] != 2 {
		t.Fatalf("events per index %v", seen)
	}
}

func TestGenerateBadRequests(t *testing.T) {
	_, ts := testServer(t, Config{})
	cases := []struct{ name, body, want string }{
		{"not JSON", `{"text": `, "invalid JSON"},
		{"no prompt", `{"sampling_params": {}}`, "text or input_ids is required"},
		{"both prompts", `{"text": "a", "input_ids": [1]}`, "not both"},
		{"bad text", `{"text": 5}`, "text must be"},
		{"negative max", `{"text": "a", "sampling_params": {"max_new_tokens": -1}}`, "max_new_tokens must be >= 0"},
		{"beyond context", `{"text": "a", "sampling_params": {"max_new_tokens": 1000000}}`, "context length"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := post(t, ts.URL+"/generate", tc.body)
			var e errorBody
			mustUnmarshal(t, body, &e)
			if code != http.StatusBadRequest || e.Error.Code != 400 || !strings.Contains(e.Error.Message, tc.want) {
				t.Fatalf("status %d body %s, want 400 mentioning %q", code, body, tc.want)
			}
		})
	}
}

func TestStreamStopsWhenClientLeaves(t *testing.T) {
	s, ts := testServer(t, Config{TimeScale: 1, DecodeTokensPerSec: 100})
	resp, err := http.Post(ts.URL+"/generate", "application/json",
		strings.NewReader(`{"text": "a", "stream": true, "sampling_params": {"max_new_tokens": 100000}}`))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	if _, err := resp.Body.Read(buf); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close() // the client goes away mid-stream
	waitFor(t, func() bool { st := s.Stats(); return st.Aborted == 1 && st.Running == 0 })
}
