package sim

import (
	"encoding/json"
	"strings"
)

// generateBody is SGLang's /generate input; unknown fields are ignored.
type generateBody struct {
	Text           json.RawMessage `json:"text"`
	InputIDs       json.RawMessage `json:"input_ids"`
	SamplingParams json.RawMessage `json:"sampling_params"` // object, or one per batch entry
	Stream         bool            `json:"stream"`
	ReturnLogprob  json.RawMessage `json:"return_logprob"` // bool, or one per batch entry
	pdFields
}

type samplingParams struct {
	MaxNewTokens *int `json:"max_new_tokens"`
}

// parseGenerate reads /generate: text (string or list) or input_ids (list
// or list of lists), sampling_params.max_new_tokens, stream, return_logprob.
func (s *Server) parseGenerate(data []byte) (*request, error) {
	var b generateBody
	if err := decodeBody(data, &b); err != nil {
		return nil, err
	}
	r := &request{kind: kindGenerate, n: 1, stream: b.Stream, pd: b.pdFields}
	switch {
	case !isNull(b.Text) && !isNull(b.InputIDs):
		return nil, badRequest("send either text or input_ids, not both")
	case !isNull(b.InputIDs):
		lists, batch, err := tokenLists(b.InputIDs)
		if err != nil {
			return nil, badRequest("input_ids must be a list of integers or a list of such lists")
		}
		r.prompts, r.batch = lists, batch
	case !isNull(b.Text):
		texts, batch, err := oneOrMany[string](b.Text)
		if err != nil {
			return nil, badRequest("text must be a string or a list of strings")
		}
		r.batch = batch
		for _, t := range texts {
			r.prompts = append(r.prompts, s.eng.tok.encode(t))
		}
	default:
		return nil, badRequest("text or input_ids is required")
	}
	if err := r.generateParams(b, s.cfg.DefaultMaxNewTokens); err != nil {
		return nil, err
	}
	return r, r.checkLimits()
}

func (r *request) generateParams(b generateBody, def int) error {
	r.maxNew = make([]int, len(r.prompts))
	for i := range r.maxNew {
		r.maxNew[i] = def
	}
	if !isNull(b.SamplingParams) {
		params, list, err := oneOrMany[samplingParams](b.SamplingParams)
		if err != nil || (list && len(params) != len(r.prompts)) {
			return badRequest("sampling_params must be an object, or a list with one object per batch entry")
		}
		for i := range r.maxNew {
			if p := params[min(i, len(params)-1)]; p.MaxNewTokens != nil {
				r.maxNew[i] = *p.MaxNewTokens
			}
		}
	}
	if !isNull(b.ReturnLogprob) {
		flags, _, err := oneOrMany[bool](b.ReturnLogprob)
		if err != nil {
			return badRequest("return_logprob must be a boolean or a list of booleans")
		}
		for _, f := range flags {
			r.logprob = r.logprob || f
		}
	}
	return nil
}

// streamOptions is OpenAI's stream_options.
type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// chatBody is OpenAI's chat completion input; unknown fields are ignored.
type chatBody struct {
	Model               string         `json:"model"`
	Messages            []chatMessage  `json:"messages"`
	MaxTokens           *int           `json:"max_tokens"`
	MaxCompletionTokens *int           `json:"max_completion_tokens"`
	N                   *int           `json:"n"`
	Stream              bool           `json:"stream"`
	StreamOptions       *streamOptions `json:"stream_options"`
	pdFields
}

// chatMessage holds a message's role and its text: the content string, or
// the text parts of a content list joined by spaces.
type chatMessage struct {
	Role string
	Text string
}

// UnmarshalJSON reads {"role", "content": string | [{"type":"text","text"}] | null}.
func (m *chatMessage) UnmarshalJSON(data []byte) error {
	var raw struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	m.Role = raw.Role
	if isNull(raw.Content) {
		return nil
	}
	if !isList(raw.Content) {
		return json.Unmarshal(raw.Content, &m.Text)
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw.Content, &parts); err != nil {
		return err
	}
	texts := make([]string, 0, len(parts))
	for _, p := range parts {
		if p.Type == "text" {
			texts = append(texts, p.Text)
		}
	}
	m.Text = strings.Join(texts, " ")
	return nil
}

func (s *Server) parseChat(data []byte) (*request, error) {
	var b chatBody
	if err := decodeBody(data, &b); err != nil {
		return nil, err
	}
	if len(b.Messages) == 0 {
		return nil, badRequest("messages must be a non-empty list")
	}
	r := &request{kind: kindChat, stream: b.Stream, model: b.Model, pd: b.pdFields}
	r.prompts = [][]int{s.eng.tok.encode(chatTemplate(b.Messages))}
	maxNew := firstInt(s.cfg.DefaultMaxNewTokens, b.MaxCompletionTokens, b.MaxTokens)
	r.maxNew = []int{maxNew}
	r.n = firstInt(1, b.N)
	r.includeUsage = b.StreamOptions != nil && b.StreamOptions.IncludeUsage
	return r, r.checkLimits()
}

// completionBody is OpenAI's (legacy) completion input.
type completionBody struct {
	Model         string          `json:"model"`
	Prompt        json.RawMessage `json:"prompt"`
	MaxTokens     *int            `json:"max_tokens"`
	N             *int            `json:"n"`
	Stream        bool            `json:"stream"`
	StreamOptions *streamOptions  `json:"stream_options"`
	pdFields
}

// defaultCompletionTokens is OpenAI's default max_tokens for completions.
const defaultCompletionTokens = 16

func (s *Server) parseCompletion(data []byte) (*request, error) {
	var b completionBody
	if err := decodeBody(data, &b); err != nil {
		return nil, err
	}
	r := &request{kind: kindCompletion, stream: b.Stream, model: b.Model, pd: b.pdFields}
	if err := r.completionPrompts(b.Prompt, s.eng.tok); err != nil {
		return nil, err
	}
	maxNew := firstInt(defaultCompletionTokens, b.MaxTokens)
	r.maxNew = make([]int, len(r.prompts))
	for i := range r.maxNew {
		r.maxNew[i] = maxNew
	}
	r.n = firstInt(1, b.N)
	r.includeUsage = b.StreamOptions != nil && b.StreamOptions.IncludeUsage
	return r, r.checkLimits()
}

// completionPrompts reads prompt: a string, a list of strings, a list of
// ids or a list of lists of ids.
func (r *request) completionPrompts(raw json.RawMessage, tok tokenizer) error {
	if isNull(raw) {
		return badRequest("prompt is required")
	}
	if texts, _, err := oneOrMany[string](raw); err == nil {
		for _, t := range texts {
			r.prompts = append(r.prompts, tok.encode(t))
		}
		return nil
	}
	lists, _, err := tokenLists(raw)
	if err != nil {
		return badRequest("prompt must be a string, a list of strings, a list of token ids or a list of such lists")
	}
	r.prompts = lists
	return nil
}

// firstInt returns the first non-nil value, else def.
func firstInt(def int, vals ...*int) int {
	for _, v := range vals {
		if v != nil {
			return *v
		}
	}
	return def
}
