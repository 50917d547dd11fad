package workload

import "math"

// NameSharedPrefix is the shared-prefix workload's name; NameSkewedPrefix
// is the same with Zipf-skewed group popularity (SkewedPrefix).
const (
	NameSharedPrefix = "shared-prefix"
	NameSkewedPrefix = "skewed-prefix"
)

// SharedPrefix is SGLang's "generated-shared-prefix" benchmark: Groups
// groups of PromptsPerGroup prompts; the prompts of a group share one long
// system prompt and differ by a question. Requests arrive shuffled across
// groups. Zero fields take SGLang's defaults.
type SharedPrefix struct {
	Groups          int // default 64
	PromptsPerGroup int // default 16
	SystemTokens    int // default 2048
	QuestionTokens  int // default 128
	OutputTokens    int // default 256
	Seed            uint64
	// Skew > 0 makes group popularity Zipf-like: group g gets a share of
	// the Groups*PromptsPerGroup prompts proportional to 1/(g+1)^Skew (at
	// least one each), as when a few system prompts serve most traffic.
	// 0 = every group has PromptsPerGroup prompts.
	Skew float64
}

// SkewedPrefix is the skewed variant the routing benchmark runs: Zipf
// popularity with exponent 1 (the first group gets about a fifth of the
// traffic with the default 64 groups), where pinning a prefix to one
// worker overloads it.
func SkewedPrefix() SharedPrefix { return SharedPrefix{Skew: 1} }

// WithDefaults returns c with zero fields set to their defaults.
func (c SharedPrefix) WithDefaults() SharedPrefix {
	c.Groups = orDefault(c.Groups, 64)
	c.PromptsPerGroup = orDefault(c.PromptsPerGroup, 16)
	c.SystemTokens = orDefault(c.SystemTokens, 2048)
	c.QuestionTokens = orDefault(c.QuestionTokens, 128)
	c.OutputTokens = orDefault(c.OutputTokens, 256)
	return c
}

// Generate builds the workload: /generate requests whose text is the
// group's system prompt, a space, and the question.
func (c SharedPrefix) Generate() Workload {
	c = c.WithDefaults()
	rng := newRand(c.Seed, 1)
	var reqs []Request
	for g, prompts := range c.counts() {
		system := words(rng, c.SystemTokens)
		for range prompts {
			text := system + " " + words(rng, c.QuestionTokens)
			reqs = append(reqs, Request{
				Path: PathGenerate, Body: generateBody(text, c.OutputTokens),
				PromptTokens: c.SystemTokens + c.QuestionTokens, OutputTokens: c.OutputTokens,
				Group: g, After: -1,
			})
		}
	}
	rng.Shuffle(len(reqs), func(i, j int) { reqs[i], reqs[j] = reqs[j], reqs[i] })
	n := c.Groups * c.PromptsPerGroup
	name := NameSharedPrefix
	if c.Skew > 0 {
		name = NameSkewedPrefix
	}
	return Workload{
		Name:             name,
		Requests:         reqs,
		WorkingSetTokens: c.Groups*c.SystemTokens + n*(c.QuestionTokens+c.OutputTokens),
	}
}

// counts is the number of prompts of each group: PromptsPerGroup each, or
// with Skew the same total split by Zipf weights (largest remainders get
// the leftovers, every group keeps at least one).
func (c SharedPrefix) counts() []int {
	n := c.Groups * c.PromptsPerGroup
	out := make([]int, c.Groups)
	if c.Skew <= 0 {
		for g := range out {
			out[g] = c.PromptsPerGroup
		}
		return out
	}
	weights, total := make([]float64, c.Groups), 0.0
	for g := range weights {
		weights[g] = 1 / math.Pow(float64(g+1), c.Skew)
		total += weights[g]
	}
	given := 0
	for g, w := range weights {
		out[g] = max(1, int(float64(n-c.Groups)*w/total)+1)
		given += out[g]
	}
	for g := 0; given < n; g = (g + 1) % c.Groups {
		out[g]++
		given++
	}
	return out
}
