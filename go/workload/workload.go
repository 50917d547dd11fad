// Package workload generates reproducible streams of LLM requests for
// routing benchmarks: prompts that share long prefixes (a system prompt per
// group), growing multi-turn conversations, and unrelated prompts as the
// control. A generator is a pure function of its configuration and seed.
//
// Text is made of short lowercase words, one token each under the
// simulator's "words" tokenizer (go/sim), so prompt lengths in tokens are
// exact there and close to real tokenizers' elsewhere. Every request is
// streamed ("stream": true) so its time to first token can be measured.
package workload

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
)

// Routes the generated requests use.
const (
	PathGenerate = "/generate"
	PathChat     = "/v1/chat/completions"
)

// Request is one request of a workload.
type Request struct {
	Path         string // PathGenerate or PathChat
	Body         []byte // JSON body, streamed
	PromptTokens int    // prompt length in tokens (exact under the "words" tokenizer)
	OutputTokens int    // tokens asked for (the simulator produces exactly these)
	Group        int    // what the prompt shares a prefix with: group or user; -1 for nothing
	// After is the index of the request that must have completed before
	// this one is sent (the previous turn of a conversation), or -1.
	After int
	// Turn, when set, makes the body depend on the engine's earlier
	// answers: the sender builds it with Turn.Body, and Body holds the
	// same turn with the generator's answers (for senders that do not).
	Turn *Turn
}

// Workload is a named, ordered request stream.
type Workload struct {
	Name     string
	Requests []Request
	// WorkingSetTokens counts the distinct tokens the workload makes an
	// engine cache (prompts, prefix-deduplicated, plus every output): what
	// a prefix cache must hold so that nothing is ever evicted.
	WorkingSetTokens int
}

// PromptTokens sums the prompt tokens of every request.
func (w Workload) PromptTokens() int {
	n := 0
	for _, r := range w.Requests {
		n += r.PromptTokens
	}
	return n
}

// OutputTokens sums the output tokens of every request.
func (w Workload) OutputTokens() int {
	n := 0
	for _, r := range w.Requests {
		n += r.OutputTokens
	}
	return n
}

// letters of the generated words; words are 2 to 8 of them, so each is one
// "words" token and unrelated texts rarely share more than a character.
const letters = "abcdefghijklmnopqrstuvwxyz"

// words returns n random words joined by single spaces.
func words(rng *rand.Rand, n int) string {
	var b strings.Builder
	b.Grow(n * 6)
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		for range 2 + rng.IntN(7) {
			b.WriteByte(letters[rng.IntN(len(letters))])
		}
	}
	return b.String()
}

// generateBody is SGLang's native /generate request, streamed.
func generateBody(text string, maxNew int) []byte {
	return mustJSON(map[string]any{
		"text":            text,
		"sampling_params": map[string]any{"max_new_tokens": maxNew, "ignore_eos": true},
		"stream":          true,
	})
}

// Message is one chat message.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// chatBody is an OpenAI chat completion request, streamed, with usage in
// the last chunk.
func chatBody(msgs []Message, maxTokens int) []byte {
	return mustJSON(map[string]any{
		"model":          "default",
		"messages":       msgs,
		"max_tokens":     maxTokens,
		"ignore_eos":     true,
		"stream":         true,
		"stream_options": map[string]any{"include_usage": true},
	})
}

// chatTokens is the prompt length of msgs under the simulator's chat
// template: "<|role|> text <|end|>" per message (two marker tokens each),
// then one "<|assistant|>" token.
func chatTokens(msgs []Message, contentTokens func(Message) int) int {
	n := 1
	for _, m := range msgs {
		n += 2 + contentTokens(m)
	}
	return n
}

// mustJSON marshals the maps built here, which always encode.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// newRand returns the generator's random source: seed and a per-generator
// stream, so two generators with one seed still draw different texts.
func newRand(seed, stream uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, stream)) }

// orDefault returns v, or def when v is zero.
func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}
