package sim

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

// namedSSE splits a stream of named events into (name, data) pairs,
// checking the framing; it must not end with [DONE].
func namedSSE(t *testing.T, body []byte) (names []string, data []map[string]any) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		name, ok := strings.CutPrefix(sc.Text(), "event: ")
		if !ok {
			t.Fatalf("expected an event line, got %q", sc.Text())
		}
		sc.Scan()
		payload, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			t.Fatalf("expected a data line, got %q", sc.Text())
		}
		var m map[string]any
		mustUnmarshal(t, []byte(payload), &m)
		if m["type"] != name {
			t.Errorf("event %s carries type %v", name, m["type"])
		}
		names, data = append(names, name), append(data, m)
		if sc.Scan(); sc.Text() != "" {
			t.Fatalf("event not followed by a blank line: %q", sc.Text())
		}
	}
	return names, data
}

func TestResponsesAnswerAndStoreTheResponse(t *testing.T) {
	_, ts := testServer(t, Config{Model: "m", TimeScale: 0})
	status, body := post(t, ts.URL+"/v1/responses", `{"input":[{"role":"user","content":[{"type":"input_text","text":"hi there"}]}],"max_output_tokens":3}`)
	var r struct {
		ID, Object, Status, Model string
		Output                    []struct {
			Content []struct{ Type, Text string }
		}
		Usage struct{ InputTokens, OutputTokens int } `json:"usage"`
	}
	mustUnmarshal(t, body, &r)
	if status != 200 || !strings.HasPrefix(r.ID, "resp_") || r.Status != "completed" || r.Model != "m" ||
		len(r.Output) != 1 || r.Output[0].Content[0].Type != "output_text" || r.Output[0].Content[0].Text == "" {
		t.Fatalf("response: %d %s", status, body)
	}
	if status, got := get(t, ts.URL+"/v1/responses/"+r.ID); status != 200 || !bytes.Contains(got, []byte(r.ID)) {
		t.Errorf("stored response: %d %s", status, got)
	}
	if status, _ := get(t, ts.URL+"/v1/responses/resp_none"); status != 404 {
		t.Errorf("unknown response: %d", status)
	}
}

func TestResponsesStreamIsNamedEvents(t *testing.T) {
	_, ts := testServer(t, Config{TimeScale: 0})
	_, body := post(t, ts.URL+"/v1/responses", `{"input":"hi","stream":true,"max_output_tokens":3}`)
	names, data := namedSSE(t, body)
	want := []string{"response.created", "response.output_item.added", "response.content_part.added",
		"response.output_text.delta", "response.output_text.delta", "response.output_text.delta",
		"response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Fatalf("events %v\nwant %v", names, want)
	}
	for i, d := range data {
		if d["sequence_number"] != float64(i) {
			t.Errorf("event %d has sequence_number %v", i, d["sequence_number"])
		}
	}
}

func TestAnthropicMessages(t *testing.T) {
	_, ts := testServer(t, Config{Model: "claude-sim", TimeScale: 0})
	req := `{"system":"be brief","messages":[{"role":"user","content":"hi"}],"max_tokens":2}`
	status, body := post(t, ts.URL+"/v1/messages", req)
	var m struct {
		Content []struct{ Type, Text string }
	}
	mustUnmarshal(t, body, &m)
	if status != 200 || !bytes.Contains(body, []byte(`"type":"message"`)) || len(m.Content) != 1 || m.Content[0].Text == "" {
		t.Fatalf("message: %d %s", status, body)
	}
	_, body = post(t, ts.URL+"/v1/messages", strings.Replace(req, `"max_tokens":2`, `"max_tokens":2,"stream":true`, 1))
	names, _ := namedSSE(t, body)
	want := "message_start,content_block_start,content_block_delta,content_block_delta,content_block_stop,message_delta,message_stop"
	if strings.Join(names, ",") != want {
		t.Errorf("events %v\nwant %s", names, want)
	}
	if status, body := post(t, ts.URL+"/v1/messages", `{"messages":[{"role":"user","content":"hi"}]}`); status != 400 {
		t.Errorf("without max_tokens: %d %s", status, body)
	}
	status, body = post(t, ts.URL+"/v1/messages/count_tokens", `{"messages":[{"role":"user","content":"one two three"}]}`)
	var c struct {
		InputTokens int `json:"input_tokens"`
	}
	if mustUnmarshal(t, body, &c); status != 200 || c.InputTokens == 0 {
		t.Errorf("count_tokens: %d %s", status, body)
	}
}

func TestStatelessRoutes(t *testing.T) {
	_, ts := testServer(t, Config{Model: "emb", TimeScale: 0})
	cases := []struct{ path, body, want string }{
		{"/v1/embeddings", `{"input":["a b","c"]}`, `"object":"embedding"`},
		{"/encode", `{"text":"a b"}`, `"embedding":[`},
		{"/classify", `{"text":"a b"}`, `"embedding":[`},
		{"/v1/classify", `{"input":"a b"}`, `"label":"LABEL_`},
		{"/v1/rerank", `{"query":"q","documents":["x","y"]}`, `"document":"`},
		{"/v1/score", `{"query":"q","items":["x"],"label_token_ids":[1,2]}`, `"scores":[[`},
		{"/tokenize", `{"prompt":"a b c"}`, `"count":3`},
		{"/v1/tokenize", `{"prompt":["a","b c"]}`, `"count":[1,2]`},
		{"/detokenize", `{"tokens":[1,2]}`, `"text":"t1 t2"`},
		{"/abort_request", `{"rid":"r1"}`, `{}`},
	}
	for _, tc := range cases {
		status, body := post(t, ts.URL+tc.path, tc.body)
		if status != 200 || !bytes.Contains(body, []byte(tc.want)) {
			t.Errorf("%s: %d %s; want %s", tc.path, status, body, tc.want)
		}
	}
	if status, body := post(t, ts.URL+"/v1/rerank", `{"query":"q"}`); status != 400 {
		t.Errorf("rerank without documents: %d %s", status, body)
	}
	var e struct {
		Data []struct{ Embedding []float64 }
	}
	_, b1 := post(t, ts.URL+"/v1/embeddings", `{"input":"same text"}`)
	_, b2 := post(t, ts.URL+"/v1/embeddings", `{"input":"same text"}`)
	if mustUnmarshal(t, b1, &e); !bytes.Equal(b1, b2) || len(e.Data[0].Embedding) != 8 {
		t.Errorf("embeddings should be deterministic 8-vectors: %s / %s", b1, b2)
	}
}

func TestClusterServesSeveralModels(t *testing.T) {
	for i, want := range []string{"a", "b", "a"} {
		s, err := NewServer(Config{Models: []string{"a", "b"}}, i)
		if err != nil {
			t.Fatal(err)
		}
		if s.Model() != want {
			t.Errorf("server %d serves %s, want %s", i, s.Model(), want)
		}
		s.Close()
	}
	_, ts := testServer(t, Config{Models: []string{"x"}})
	var models struct{ Data []struct{ ID string } }
	_, body := get(t, ts.URL+"/v1/models")
	if mustUnmarshal(t, body, &models); models.Data[0].ID != "x" {
		t.Errorf("/v1/models: %s", body)
	}
}
