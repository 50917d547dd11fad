package sim

import (
	"encoding/json"
	"strings"
)

// The OpenAI Responses API (/v1/responses): one generated message, as a
// response object or, streamed, as named events (response.created, the
// output item and text part opening, one response.output_text.delta per
// token, their closing, response.completed).

const kindResponses = "responses"

type responsesBody struct {
	Model           string          `json:"model"`
	Input           json.RawMessage `json:"input"`
	Instructions    string          `json:"instructions"`
	MaxOutputTokens *int            `json:"max_output_tokens"`
	Stream          bool            `json:"stream"`
}

// responseItem is an input item: a message whose content is a string or a
// list of parts with text.
type responseItem struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

func (s *Server) parseResponses(data []byte) (*request, error) {
	var b responsesBody
	if err := decodeBody(data, &b); err != nil {
		return nil, err
	}
	msgs, err := responsesInput(b.Input)
	if err != nil {
		return nil, err
	}
	if b.Instructions != "" {
		msgs = append([]chatMessage{{Role: "system", Text: b.Instructions}}, msgs...)
	}
	r := &request{kind: kindResponses, stream: b.Stream, model: b.Model, n: 1}
	r.prompts = [][]int{s.eng.tok.encode(chatTemplate(msgs))}
	r.maxNew = []int{firstInt(s.cfg.DefaultMaxNewTokens, b.MaxOutputTokens)}
	return r, r.checkLimits()
}

// responsesInput reads input: a string (one user message) or a list of
// items.
func responsesInput(raw json.RawMessage) ([]chatMessage, error) {
	if isNull(raw) {
		return nil, badRequest("input is required")
	}
	if !isList(raw) {
		var text string
		if err := json.Unmarshal(raw, &text); err != nil {
			return nil, badRequest("input must be a string or a list of items")
		}
		return []chatMessage{{Role: "user", Text: text}}, nil
	}
	var items []responseItem
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, badRequest("input must be a string or a list of items")
	}
	msgs := make([]chatMessage, 0, len(items))
	for _, it := range items {
		msgs = append(msgs, chatMessage{Role: it.Role, Text: partsText(it.Content)})
	}
	return msgs, nil
}

// partsText is the text of a content value: a string, or the text of
// its parts that carry some.
func partsText(raw json.RawMessage) string {
	if isNull(raw) {
		return ""
	}
	if !isList(raw) {
		var s string
		_ = json.Unmarshal(raw, &s)
		return s
	}
	var parts []struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal(raw, &parts)
	texts := make([]string, 0, len(parts))
	for _, p := range parts {
		if p.Text != "" {
			texts = append(texts, p.Text)
		}
	}
	return strings.Join(texts, " ")
}

// responsesFormat renders /v1/responses; its stream is named events.
type responsesFormat struct {
	s       *Server
	req     *request
	job     *job
	id, msg string
	created int64
	model   string
	seq     int
}

func (s *Server) newResponsesFormat(req *request, jobs []*job) *responsesFormat {
	f := &responsesFormat{s: s, req: req, job: jobs[0], id: "resp_" + s.newID(), msg: "msg_" + s.newID(),
		created: s.eng.clock.Now().Unix(), model: req.model}
	if f.model == "" {
		f.model = s.cfg.Model
	}
	return f
}

func (f *responsesFormat) named() {}

func (f *responsesFormat) textPart(text string) map[string]any {
	return map[string]any{"type": "output_text", "text": text, "annotations": []any{}}
}

func (f *responsesFormat) item(done bool) map[string]any {
	status, content := "in_progress", []any{}
	if done {
		status, content = "completed", []any{f.textPart(f.job.out.text(f.job.emitted))}
	}
	return map[string]any{"type": "message", "id": f.msg, "status": status, "role": "assistant", "content": content}
}

func (f *responsesFormat) response(done bool) map[string]any {
	r := map[string]any{
		"id": f.id, "object": "response", "created_at": f.created, "model": f.model, "status": "in_progress",
		"output": []any{}, "parallel_tool_calls": true, "tool_choice": "auto", "tools": []any{},
	}
	if done {
		j := f.job
		r["status"], r["output"] = "completed", []any{f.item(true)}
		r["usage"] = map[string]any{
			"input_tokens": len(j.prompt), "output_tokens": j.emitted, "total_tokens": len(j.prompt) + j.emitted,
			"input_tokens_details":  map[string]any{"cached_tokens": j.cached},
			"output_tokens_details": map[string]any{"reasoning_tokens": 0},
		}
	}
	return r
}

func (f *responsesFormat) body() any {
	f.s.rememberResponse(f.id, f.response(true))
	return f.response(true)
}

// event is one named event; every event carries its type and a sequence
// number.
func (f *responsesFormat) event(typ string, fields map[string]any) []byte {
	fields["type"], fields["sequence_number"] = typ, f.seq
	f.seq++
	return namedEvent(typ, fields)
}

func (f *responsesFormat) events(j *job, done bool) [][]byte {
	var out [][]byte
	loc := func(m map[string]any) map[string]any {
		m["item_id"], m["output_index"], m["content_index"] = f.msg, 0, 0
		return m
	}
	if f.seq == 0 {
		out = append(out,
			f.event("response.created", map[string]any{"response": f.response(false)}),
			f.event("response.output_item.added", map[string]any{"output_index": 0, "item": f.item(false)}),
			f.event("response.content_part.added", loc(map[string]any{"part": f.textPart("")})))
	}
	if j.emitted > 0 {
		out = append(out, f.event("response.output_text.delta", loc(map[string]any{"delta": j.out.pieces[j.emitted-1], "logprobs": []any{}})))
	}
	if done {
		text := j.out.text(j.emitted)
		out = append(out,
			f.event("response.output_text.done", loc(map[string]any{"text": text, "logprobs": []any{}})),
			f.event("response.content_part.done", loc(map[string]any{"part": f.textPart(text)})),
			f.event("response.output_item.done", map[string]any{"output_index": 0, "item": f.item(true)}),
			f.event("response.completed", map[string]any{"response": f.response(true)}))
		f.s.rememberResponse(f.id, f.response(true))
	}
	return out
}

func (f *responsesFormat) tail() [][]byte { return nil }

// namedEvent is one SSE frame with an event name.
func namedEvent(name string, v any) []byte {
	return []byte("event: " + name + "\ndata: " + string(mustJSON(v)) + "\n\n")
}
