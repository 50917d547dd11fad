package workload

import "math/rand/v2"

// NameMultiTurn is the multi-turn chat workload's name.
const NameMultiTurn = "multi-turn"

// MultiTurn is a chat workload: Users users hold conversations of Turns
// turns; each turn resends the whole conversation so far (system prompt,
// previous questions and answers) plus a new question, so turn t's prompt
// extends turn t-1's. At most ActiveUsers conversations are open at once:
// a user who finishes is replaced by the next one, so the set of live
// conversations is smaller than the whole workload, as on a real service.
// Each request names its previous turn in Request.After: a user asks again
// only after the answer came back. Zero fields take the defaults.
//
// The assistant answers resent in later turns are written by the
// generator, not taken from the engine's replies, so the workload stays a
// pure function of its seed. An engine therefore finds at most the
// previous turn's prompt in its cache, never its own earlier output.
type MultiTurn struct {
	Users        int // default 128
	Turns        int // default 6
	ActiveUsers  int // default 32
	SystemTokens int // per-user system prompt; default 0 (none)
	UserTokens   int // tokens of each question; default 256
	OutputTokens int // tokens of each answer; default 128
	Seed         uint64
	// EngineAnswers makes each turn resend the engine's own answers
	// instead of the generator's (Request.Turn; see CodingChat). The
	// workload is then named NameCodingChat.
	EngineAnswers bool
}

// WithDefaults returns c with zero fields set to their defaults.
func (c MultiTurn) WithDefaults() MultiTurn {
	c.Users = orDefault(c.Users, 128)
	c.Turns = orDefault(c.Turns, 6)
	c.ActiveUsers = min(orDefault(c.ActiveUsers, 32), c.Users)
	c.UserTokens = orDefault(c.UserTokens, 256)
	c.OutputTokens = orDefault(c.OutputTokens, 128)
	return c
}

// Generate builds the workload: /v1/chat/completions requests.
func (c MultiTurn) Generate() Workload {
	c = c.WithDefaults()
	rng := newRand(c.Seed, 2)
	convs := make([]*conversation, c.Users)
	for u := range convs {
		convs[u] = c.newConversation(rng, u)
	}
	var reqs []Request
	for _, u := range c.order(rng) {
		reqs = append(reqs, convs[u].next(c, len(reqs)))
	}
	ws := 0
	for _, cv := range convs {
		ws += cv.promptTokens(c) + c.Turns*c.OutputTokens // final prompt + every reply the engine wrote
	}
	name := NameMultiTurn
	if c.EngineAnswers {
		name = NameCodingChat
	}
	return Workload{Name: name, Requests: reqs, WorkingSetTokens: ws}
}

// order returns the user of each request: a random open conversation
// speaks next; a finished one is replaced by the next user.
func (c MultiTurn) order(rng *rand.Rand) []int {
	active := make([]int, c.ActiveUsers)
	left := make([]int, c.Users)
	for u := range left {
		left[u] = c.Turns
	}
	for i := range active {
		active[i] = i
	}
	nextUser := c.ActiveUsers
	out := make([]int, 0, c.Users*c.Turns)
	for len(active) > 0 {
		i := rng.IntN(len(active))
		u := active[i]
		out = append(out, u)
		if left[u]--; left[u] > 0 {
			continue
		}
		if nextUser < c.Users {
			active[i] = nextUser
			nextUser++
		} else {
			active = append(active[:i], active[i+1:]...)
		}
	}
	return out
}

// conversation is one user's scripted dialogue.
type conversation struct {
	user      int
	system    string
	questions []string
	answers   []string
	turn      int // next turn to send
	last      int // index of the previous turn's request, or -1
}

func (c MultiTurn) newConversation(rng *rand.Rand, user int) *conversation {
	cv := &conversation{user: user, last: -1}
	if c.SystemTokens > 0 {
		cv.system = words(rng, c.SystemTokens)
	}
	for range c.Turns {
		cv.questions = append(cv.questions, words(rng, c.UserTokens))
		cv.answers = append(cv.answers, words(rng, c.OutputTokens))
	}
	return cv
}

// messages returns the conversation up to turn t's question.
func (cv *conversation) messages(t int) []Message {
	var msgs []Message
	if cv.system != "" {
		msgs = append(msgs, Message{Role: "system", Content: cv.system})
	}
	for i := range t {
		msgs = append(msgs, Message{Role: "user", Content: cv.questions[i]}, Message{Role: "assistant", Content: cv.answers[i]})
	}
	return append(msgs, Message{Role: "user", Content: cv.questions[t]})
}

// next returns the request of the next turn, to be request number index.
func (cv *conversation) next(c MultiTurn, index int) Request {
	msgs := cv.messages(cv.turn)
	r := Request{
		Path: PathChat, Body: chatBody(msgs, c.OutputTokens),
		PromptTokens: cv.tokens(c, msgs), OutputTokens: c.OutputTokens,
		Group: cv.user, After: cv.last,
	}
	if c.EngineAnswers {
		r.Turn = &Turn{Conv: cv.user, System: cv.system, Question: cv.questions[cv.turn], MaxTokens: c.OutputTokens}
	}
	cv.turn++
	cv.last = index
	return r
}

// promptTokens is the length of the conversation's last prompt.
func (cv *conversation) promptTokens(c MultiTurn) int {
	return cv.tokens(c, cv.messages(c.Turns-1))
}

func (cv *conversation) tokens(c MultiTurn, msgs []Message) int {
	return chatTokens(msgs, func(m Message) int {
		switch m.Role {
		case "system":
			return c.SystemTokens
		case "assistant":
			return c.OutputTokens
		}
		return c.UserTokens
	})
}
