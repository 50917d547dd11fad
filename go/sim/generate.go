package sim

// generateResult is one sequence of a /generate answer, as SGLang shapes it.
type generateResult struct {
	Text      string       `json:"text"`
	OutputIDs []int        `json:"output_ids"`
	MetaInfo  generateMeta `json:"meta_info"`
	Index     *int         `json:"index,omitempty"` // streamed batches only
}

type generateMeta struct {
	ID                  string        `json:"id"`
	FinishReason        *finishReason `json:"finish_reason"` // null until the last event
	PromptTokens        int           `json:"prompt_tokens"`
	CompletionTokens    int           `json:"completion_tokens"`
	CachedTokens        int           `json:"cached_tokens"`
	E2ELatency          float64       `json:"e2e_latency"`
	InputTokenLogprobs  *[][]any      `json:"input_token_logprobs,omitempty"`
	OutputTokenLogprobs *[][]any      `json:"output_token_logprobs,omitempty"`
}

// finishReason is SGLang's {"type": "length", "length": N}: the simulator
// always generates exactly max_new_tokens.
type finishReason struct {
	Type   string `json:"type"`
	Length int    `json:"length"`
}

// generateFormat renders /generate: one object, or a list for a batch;
// streamed, every event carries the cumulative text and meta_info.
type generateFormat struct {
	s    *Server
	req  *request
	jobs []*job
	ids  []string // response id per job
}

func (s *Server) newGenerateFormat(req *request, jobs []*job) *generateFormat {
	f := &generateFormat{s: s, req: req, jobs: jobs, ids: make([]string, len(jobs))}
	for i := range f.ids {
		f.ids[i] = s.newID()
	}
	return f
}

func (f *generateFormat) result(j *job, done bool) generateResult {
	n := j.emitted
	res := generateResult{
		Text:      j.out.text(n),
		OutputIDs: j.out.ids[:n],
		MetaInfo: generateMeta{
			ID:               f.ids[j.idx],
			PromptTokens:     len(j.prompt),
			CompletionTokens: n,
			CachedTokens:     j.cached,
			E2ELatency:       f.s.eng.clock.Now().Sub(j.arrival).Seconds(),
		},
	}
	if done {
		res.MetaInfo.FinishReason = &finishReason{Type: "length", Length: n}
	}
	if f.req.logprob {
		in, out := f.inputLogprobs(j), outputLogprobs(j, n)
		res.MetaInfo.InputTokenLogprobs, res.MetaInfo.OutputTokenLogprobs = &in, &out
	}
	return res
}

// inputLogprobs are [logprob, token_id, null] per prompt token, the first
// with a null logprob. A decode server has none (the prefill server
// computed them): the router is expected to prepend the prefill's.
func (f *generateFormat) inputLogprobs(j *job) [][]any {
	if f.s.cfg.Role == RoleDecode {
		return [][]any{}
	}
	lps := make([][]any, len(j.prompt))
	for i, id := range j.prompt {
		var lp any
		if i > 0 {
			lp = inputLogprob(j.prompt, i)
		}
		lps[i] = []any{lp, id, nil}
	}
	return lps
}

func outputLogprobs(j *job, n int) [][]any {
	lps := make([][]any, n)
	for i := range n {
		lps[i] = []any{j.out.logprob(i), j.out.ids[i], nil}
	}
	return lps
}

func (f *generateFormat) events(j *job, done bool) [][]byte {
	res := f.result(j, done)
	if f.req.batch {
		idx := j.idx
		res.Index = &idx
	}
	return [][]byte{mustJSON(res)}
}

func (f *generateFormat) tail() [][]byte { return nil }

func (f *generateFormat) body() any {
	if !f.req.batch {
		return f.result(f.jobs[0], true)
	}
	list := make([]generateResult, len(f.jobs))
	for i, j := range f.jobs {
		list[i] = f.result(j, true)
	}
	return list
}
