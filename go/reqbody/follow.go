package reqbody

// Follow says how the routing text of a request would continue if its
// answer were sent back as the next turn of the conversation sends it:
// a chat client resends the answer as the next assistant message, a
// completion client appends the completion to its prompt. The router uses
// it to record what a worker's cache holds after answering (the engine
// caches its own output), so that the next turn, mostly that answer and a
// short question, matches the worker that wrote it.
type Follow uint8

const (
	// FollowNone: how the text continues is unknown (batches, token ids,
	// n > 1, routes whose answers are not resent as text): record nothing.
	FollowNone Follow = iota
	// FollowMessage: the answer becomes the content of the next message,
	// a piece of its own in the routing text (a space, then the answer).
	FollowMessage
	// FollowText: the answer follows the text directly (a string prompt
	// of /v1/completions or /generate).
	FollowText
)

// follow decides Info.Follow for a parsed body whose text was read.
func follow(route Route, f *fields, info *Info) Follow {
	if info.Text == "" || info.BatchSize > 0 {
		return FollowNone
	}
	switch route {
	case ChatCompletions:
		if f.decoded.has(keyMessages) {
			return FollowMessage
		}
	case Completions:
		if f.kind(keyPrompt) == '"' && f.decoded.has(keyPrompt) {
			return FollowText
		}
	case Generate:
		// The text is "text" when present as a string or list, else
		// "prompt" (routingText): either must be a plain string.
		for _, k := range [...]key{keyText, keyPrompt} {
			if f.decoded.has(k) {
				if f.kind(k) == '"' {
					return FollowText
				}
				return FollowNone
			}
		}
	}
	return FollowNone
}

// AppendAnswer appends to dst the routing text of the request whose text
// is text, continued by its answer as the next turn would send it, and
// returns the result; for FollowNone (or an empty answer) it returns dst
// unchanged. The result is a prefix of the next turn's routing text.
func (f Follow) AppendAnswer(dst []byte, text string, answer []byte) []byte {
	if f == FollowNone || len(answer) == 0 {
		return dst
	}
	dst = append(dst, text...)
	if f == FollowMessage {
		dst = append(dst, ' ')
	}
	return append(dst, answer...)
}

// AppendString decodes the JSON string literal quoted (its quotes
// included) onto dst as Parse decodes strings (invalid UTF-8 and unpaired
// surrogates become U+FFFD), so that text built from it matches the text
// Parse reads when the string comes back in a request. It fails unless
// quoted is exactly one valid string literal.
func AppendString(dst, quoted []byte) ([]byte, error) {
	if len(quoted) == 0 || quoted[0] != '"' {
		return dst, ErrMalformed
	}
	s := scanner{b: quoted}
	out, err := s.appendString(dst)
	if err != nil {
		return dst, err
	}
	if s.pos != len(quoted) {
		return dst, ErrMalformed
	}
	return out, nil
}
