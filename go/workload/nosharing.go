package workload

// NameNoSharing is the control workload's name.
const NameNoSharing = "no-sharing"

// NoSharing is the control: unrelated random prompts, so no routing can
// find a cached prefix. Zero fields take the defaults.
type NoSharing struct {
	Requests     int // default 1024
	PromptTokens int // default 1024
	OutputTokens int // default 256
	Seed         uint64
}

// WithDefaults returns c with zero fields set to their defaults.
func (c NoSharing) WithDefaults() NoSharing {
	c.Requests = orDefault(c.Requests, 1024)
	c.PromptTokens = orDefault(c.PromptTokens, 1024)
	c.OutputTokens = orDefault(c.OutputTokens, 256)
	return c
}

// Generate builds the workload: /generate requests of random text.
func (c NoSharing) Generate() Workload {
	c = c.WithDefaults()
	rng := newRand(c.Seed, 3)
	reqs := make([]Request, c.Requests)
	for i := range reqs {
		reqs[i] = Request{
			Path: PathGenerate, Body: generateBody(words(rng, c.PromptTokens), c.OutputTokens),
			PromptTokens: c.PromptTokens, OutputTokens: c.OutputTokens, Group: -1, After: -1,
		}
	}
	return Workload{
		Name:             NameNoSharing,
		Requests:         reqs,
		WorkingSetTokens: c.Requests * (c.PromptTokens + c.OutputTokens),
	}
}
