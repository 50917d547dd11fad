package workload

// NameSharedPrefix is the shared-prefix workload's name.
const NameSharedPrefix = "shared-prefix"

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
}

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
	for g := range c.Groups {
		system := words(rng, c.SystemTokens)
		for range c.PromptsPerGroup {
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
	return Workload{
		Name:             NameSharedPrefix,
		Requests:         reqs,
		WorkingSetTokens: c.Groups*c.SystemTokens + n*(c.QuestionTokens+c.OutputTokens),
	}
}
