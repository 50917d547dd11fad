package sim

import "encoding/json"

// The Anthropic Messages API (/v1/messages): one text block, as a message
// object or, streamed, as named events (message_start, content_block_start,
// one content_block_delta per token, content_block_stop, message_delta,
// message_stop), and /v1/messages/count_tokens.

const kindMessages = "messages"

type anthropicBody struct {
	Model     string          `json:"model"`
	System    json.RawMessage `json:"system"`
	Messages  []chatMessage   `json:"messages"`
	MaxTokens *int            `json:"max_tokens"`
	Stream    bool            `json:"stream"`
}

// prompt is the chat template over the system prompt and the messages.
func (b *anthropicBody) prompt() string {
	msgs := b.Messages
	if sys := partsText(b.System); sys != "" {
		msgs = append([]chatMessage{{Role: "system", Text: sys}}, msgs...)
	}
	return chatTemplate(msgs)
}

func (s *Server) parseMessages(data []byte) (*request, error) {
	var b anthropicBody
	if err := decodeBody(data, &b); err != nil {
		return nil, err
	}
	if len(b.Messages) == 0 {
		return nil, badRequest("messages must be a non-empty list")
	}
	if b.MaxTokens == nil {
		return nil, badRequest("max_tokens is required")
	}
	r := &request{kind: kindMessages, stream: b.Stream, model: b.Model, n: 1}
	r.prompts = [][]int{s.eng.tok.encode(b.prompt())}
	r.maxNew = []int{*b.MaxTokens}
	return r, r.checkLimits()
}

// messagesFormat renders /v1/messages; its stream is named events.
type messagesFormat struct {
	s     *Server
	req   *request
	job   *job
	id    string
	model string
	begun bool
}

func (s *Server) newMessagesFormat(req *request, jobs []*job) *messagesFormat {
	f := &messagesFormat{s: s, req: req, job: jobs[0], id: "msg_" + s.newID(), model: req.model}
	if f.model == "" {
		f.model = s.cfg.Model
	}
	return f
}

func (f *messagesFormat) named() {}

func (f *messagesFormat) message(done bool) map[string]any {
	j := f.job
	m := map[string]any{
		"id": f.id, "type": "message", "role": "assistant", "model": f.model, "content": []any{},
		"stop_reason": nil, "stop_sequence": nil,
		"usage": map[string]any{"input_tokens": len(j.prompt), "output_tokens": j.emitted, "cache_read_input_tokens": j.cached},
	}
	if done {
		m["content"] = []any{map[string]any{"type": "text", "text": j.out.text(j.emitted)}}
		m["stop_reason"] = "max_tokens"
	}
	return m
}

func (f *messagesFormat) body() any { return f.message(true) }

func (f *messagesFormat) event(typ string, fields map[string]any) []byte {
	fields["type"] = typ
	return namedEvent(typ, fields)
}

func (f *messagesFormat) events(j *job, done bool) [][]byte {
	var out [][]byte
	if !f.begun {
		f.begun = true
		out = append(out,
			f.event("message_start", map[string]any{"message": f.message(false)}),
			f.event("content_block_start", map[string]any{"index": 0, "content_block": map[string]any{"type": "text", "text": ""}}))
	}
	if j.emitted > 0 {
		out = append(out, f.event("content_block_delta", map[string]any{"index": 0,
			"delta": map[string]any{"type": "text_delta", "text": j.out.pieces[j.emitted-1]}}))
	}
	if done {
		out = append(out,
			f.event("content_block_stop", map[string]any{"index": 0}),
			f.event("message_delta", map[string]any{"delta": map[string]any{"stop_reason": "max_tokens", "stop_sequence": nil},
				"usage": map[string]any{"output_tokens": j.emitted}}),
			f.event("message_stop", map[string]any{}))
	}
	return out
}

func (f *messagesFormat) tail() [][]byte { return nil }
