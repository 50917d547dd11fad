package sim

// OpenAI-compatible answers of /v1/chat/completions and /v1/completions,
// streamed (chunks, then an optional usage chunk, then [DONE]) or not.

type usage struct {
	PromptTokens        int           `json:"prompt_tokens"`
	CompletionTokens    int           `json:"completion_tokens"`
	TotalTokens         int           `json:"total_tokens"`
	PromptTokensDetails promptDetails `json:"prompt_tokens_details"`
}

type promptDetails struct {
	CachedTokens int `json:"cached_tokens"`
}

type openAIResponse struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	Model   string `json:"model"`
	Choices []any  `json:"choices"`
	Usage   *usage `json:"usage,omitempty"`
}

type chatMessageOut struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type chatChoice struct {
	Index        int            `json:"index"`
	Message      chatMessageOut `json:"message"`
	Logprobs     any            `json:"logprobs"`
	FinishReason string         `json:"finish_reason"`
}

type chatDelta struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
}

type chatChunkChoice struct {
	Index        int       `json:"index"`
	Delta        chatDelta `json:"delta"`
	Logprobs     any       `json:"logprobs"`
	FinishReason *string   `json:"finish_reason"`
}

type completionChoice struct {
	Index        int     `json:"index"`
	Text         string  `json:"text"`
	Logprobs     any     `json:"logprobs"`
	FinishReason *string `json:"finish_reason"`
}

// openAIFormat renders one chat or completion request; choice i is job i
// (prompt i/n, sample i%n).
type openAIFormat struct {
	chat    bool
	req     *request
	jobs    []*job
	id      string
	created int64
	model   string
}

func (s *Server) newOpenAIFormat(req *request, jobs []*job, chat bool) *openAIFormat {
	f := &openAIFormat{chat: chat, req: req, jobs: jobs, created: s.eng.clock.Now().Unix(), model: req.model}
	f.id = "cmpl-" + s.newID()
	if chat {
		f.id = "chatcmpl-" + s.newID()
	}
	if f.model == "" {
		f.model = s.cfg.Model
	}
	return f
}

func (f *openAIFormat) object(chunk bool) string {
	switch {
	case f.chat && chunk:
		return "chat.completion.chunk"
	case f.chat:
		return "chat.completion"
	default:
		return "text_completion"
	}
}

func (f *openAIFormat) response(chunk bool, choices ...any) openAIResponse {
	return openAIResponse{ID: f.id, Object: f.object(chunk), Created: f.created, Model: f.model, Choices: choices}
}

// usage counts each prompt once however many samples it had, and the
// cached tokens of its first sample, as OpenAI and SGLang do.
func (f *openAIFormat) usage() *usage {
	var u usage
	for _, j := range f.jobs {
		if j.idx%f.req.n == 0 {
			u.PromptTokens += len(j.prompt)
			u.PromptTokensDetails.CachedTokens += j.cached
		}
		u.CompletionTokens += j.emitted
	}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	return &u
}

func (f *openAIFormat) body() any {
	resp := f.response(false)
	for _, j := range f.jobs {
		text := j.out.text(j.emitted)
		if f.chat {
			resp.Choices = append(resp.Choices, chatChoice{Index: j.idx, Message: chatMessageOut{Role: "assistant", Content: text}, FinishReason: "length"})
		} else {
			reason := "length"
			resp.Choices = append(resp.Choices, completionChoice{Index: j.idx, Text: text, FinishReason: &reason})
		}
	}
	resp.Usage = f.usage()
	return resp
}

// events: a chat choice opens with a role chunk; every token is a chunk
// with its text; the last chunk has an empty delta and finish_reason.
func (f *openAIFormat) events(j *job, done bool) [][]byte {
	var out [][]byte
	first := j.emitted <= 1
	if f.chat && first {
		empty := ""
		out = append(out, mustJSON(f.response(true, chatChunkChoice{Index: j.idx, Delta: chatDelta{Role: "assistant", Content: &empty}})))
	}
	if j.emitted > 0 {
		piece := j.out.pieces[j.emitted-1]
		out = append(out, mustJSON(f.response(true, f.chunkChoice(j.idx, &piece, nil))))
	}
	if done {
		reason := "length"
		out = append(out, mustJSON(f.response(true, f.chunkChoice(j.idx, nil, &reason))))
	}
	return out
}

func (f *openAIFormat) chunkChoice(idx int, text, reason *string) any {
	if f.chat {
		return chatChunkChoice{Index: idx, Delta: chatDelta{Content: text}, FinishReason: reason}
	}
	c := completionChoice{Index: idx, FinishReason: reason}
	if text != nil {
		c.Text = *text
	}
	return c
}

// tail is the usage chunk (empty choices) when stream_options.include_usage.
func (f *openAIFormat) tail() [][]byte {
	if !f.req.includeUsage {
		return nil
	}
	resp := f.response(true)
	resp.Choices = []any{}
	resp.Usage = f.usage()
	return [][]byte{mustJSON(resp)}
}
