package sim

import (
	"bytes"
	"encoding/json"
)

// Request kinds, one per generation route.
const (
	kindGenerate   = "generate"
	kindChat       = "chat"
	kindCompletion = "completion"
)

// contextLength bounds prompt + output tokens of one sequence, as a
// model's context window does; it also bounds the memory a request takes.
const contextLength = 1 << 17

// maxN bounds the samples per prompt (n).
const maxN = 128

// request is a parsed generation request, whatever its route.
type request struct {
	kind         string
	prompts      [][]int // one per batch entry
	maxNew       []int   // per batch entry
	n            int     // samples per entry (chat/completions)
	batch        bool    // /generate: the answer is a list
	stream       bool
	logprob      bool // /generate return_logprob
	includeUsage bool // stream_options.include_usage
	model        string
	pd           pdFields
}

// pdFields are the fields a router adds: in PD mode the bootstrap fields
// (scalars, or lists with one entry per sequence), with dp_aware the rank.
type pdFields struct {
	BootstrapHost json.RawMessage `json:"bootstrap_host"`
	BootstrapPort json.RawMessage `json:"bootstrap_port"`
	BootstrapRoom json.RawMessage `json:"bootstrap_room"`
	// DataParallelRank picks the data-parallel rank (dp_aware routers).
	DataParallelRank json.RawMessage `json:"data_parallel_rank"`
}

// sequences is the number of jobs the request makes.
func (r *request) sequences() int { return len(r.prompts) * r.n }

func decodeBody(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return badRequest("invalid JSON body: %v", err)
	}
	return nil
}

// isNull reports whether raw is absent or JSON null.
func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}

// isList reports whether raw is a JSON array.
func isList(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && t[0] == '['
}

// oneOrMany decodes raw as a T or a list of T; list tells which it was.
func oneOrMany[T any](raw json.RawMessage) (vals []T, list bool, err error) {
	if isList(raw) {
		err = json.Unmarshal(raw, &vals)
		return vals, true, err
	}
	var v T
	if err = json.Unmarshal(raw, &v); err != nil {
		return nil, false, err
	}
	return []T{v}, false, nil
}

// tokenLists decodes a prompt given as ids: a list of ids or a list of
// lists of ids (a batch).
func tokenLists(raw json.RawMessage) (lists [][]int, batch bool, err error) {
	var many [][]int
	if json.Unmarshal(raw, &many) == nil && len(many) > 0 {
		return many, true, nil
	}
	var one []int
	if err := json.Unmarshal(raw, &one); err != nil {
		return nil, false, err
	}
	return [][]int{one}, false, nil
}

// checkLimits rejects requests beyond the model's context or n bound.
func (r *request) checkLimits() error {
	if r.n < 1 || r.n > maxN {
		return badRequest("n must be in [1, %d], got %d", maxN, r.n)
	}
	if len(r.prompts) == 0 {
		return badRequest("the request holds no prompt")
	}
	for i, p := range r.prompts {
		if r.maxNew[i] < 0 {
			return badRequest("max_new_tokens must be >= 0, got %d", r.maxNew[i])
		}
		if len(p)+r.maxNew[i] > contextLength {
			return badRequest("requested %d tokens (%d prompt + %d new), more than the context length %d",
				len(p)+r.maxNew[i], len(p), r.maxNew[i], contextLength)
		}
	}
	return nil
}
