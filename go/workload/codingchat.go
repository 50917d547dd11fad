package workload

// NameCodingChat is the coding-chat workload's name.
const NameCodingChat = "coding-chat"

// CodingChat is MultiTurn shaped like a coding assistant: short questions,
// long answers, and every turn resends the engine's own earlier answers
// (Request.Turn), as a chat client does, so the engine finds the whole
// conversation, its own output included, in its cache. Only a router that
// follows the conversation, not just the text earlier requests carried,
// sends a turn where that cache is: the previous answer is most of the
// new prompt. Zero fields of MultiTurn take these defaults: 128 users of
// 4 turns, 64 at a time, 32-token questions, 256-token answers.
func CodingChat(c MultiTurn) MultiTurn {
	c.Users = orDefault(c.Users, 128)
	c.Turns = orDefault(c.Turns, 4)
	c.ActiveUsers = orDefault(c.ActiveUsers, 64)
	c.UserTokens = orDefault(c.UserTokens, 32)
	c.OutputTokens = orDefault(c.OutputTokens, 256)
	c.EngineAnswers = true
	return c
}

// Turn is a chat turn whose history holds the engine's own answers, so
// its body can only be written once the earlier turns were answered: the
// replay keeps each conversation's messages and calls Body.
type Turn struct {
	Conv      int    // the conversation (user); turns of one are sent in order
	System    string // system prompt; "" for none
	Question  string
	MaxTokens int
}

// Body is the turn's request: the system prompt, history (the earlier
// questions and the engine's answers, in order) and the question.
func (t *Turn) Body(history []Message) []byte {
	msgs := make([]Message, 0, len(history)+2)
	if t.System != "" {
		msgs = append(msgs, Message{Role: "system", Content: t.System})
	}
	msgs = append(append(msgs, history...), Message{Role: "user", Content: t.Question})
	return chatBody(msgs, t.MaxTokens)
}
