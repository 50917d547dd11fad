package reqbody

import (
	"unsafe"
)

// Nesting depths of the containers read for the text (top object = 1).
const (
	depthList     = 2 // a top-level list, e.g. "messages" or "text"
	depthInner    = 3 // a list in that list, or a message object
	depthParts    = 4 // a message's content list
	depthPartItem = 5 // a content part object
)

// textKeys returns the keys whose values may make a route's text: scanTop
// decodes them as it validates (see decodeText), so the body is read once.
func textKeys(route Route) keySet {
	switch route {
	case Generate:
		return 1<<keyText | 1<<keyPrompt | 1<<keyInputIDs
	case Completions:
		return 1 << keyPrompt
	case ChatCompletions:
		return 1 << keyMessages
	case Messages:
		return 1<<keySystem | 1<<keyMessages
	case Responses, Embeddings:
		return 1 << keyInput
	}
	return 0
}

// routingText picks Info.Text among the values scanTop decoded.
func routingText(route Route, f *fields) string {
	switch route {
	case Generate:
		for _, k := range [...]key{keyText, keyPrompt, keyInputIDs} {
			if f.decoded.has(k) {
				return f.str[k]
			}
		}
	case Completions:
		return f.str[keyPrompt]
	case ChatCompletions:
		return f.str[keyMessages]
	case Messages:
		if sys, msgs := f.str[keySystem], f.str[keyMessages]; sys != "" && msgs != "" {
			return sys + " " + msgs
		} else if sys != "" {
			return sys
		}
		return f.str[keyMessages]
	case Responses, Embeddings:
		return f.str[keyInput]
	}
	return ""
}

// decodable says whether the value of key k, whose first byte is c, makes
// text: "messages" a list; "model", "rid" and "previous_response_id" a
// string; the others a string
// or a list. Other values (null, numbers, ...) count as absent.
func decodable(k key, c byte) bool {
	switch k {
	case keyMessages:
		return c == '['
	case keyModel, keyRID, keyPrevResponse:
		return c == '"'
	}
	return c == '"' || c == '['
}

// usable is decodable for the text keys other than "messages".
func usable(c byte) bool { return decodable(keyText, c) }

// decodeText validates and reads the text of the value at s.pos, of key k
// in a body of route, which must be decodable; share lets a plain string
// alias s.b (see sharedString).
func decodeText(s *scanner, route Route, k key, share bool) (string, error) {
	switch {
	case k == keyModel || k == keyRID || k == keyPrevResponse:
		return s.shortString()
	case s.peek() == '"' && share:
		return s.sharedString()
	case s.peek() == '"':
		return s.stringValue()
	case k == keyMessages, k == keyInput && route == Responses:
		return chatText(s)
	case k == keySystem:
		return blocksText(s)
	}
	return listText(s)
}

// listText joins the strings and numbers of the list at s.pos and of its
// lists.
func listText(s *scanner) (string, error) {
	t := textBuf{buf: newTextBuf(len(s.b) - s.pos)}
	err := s.array(depthList, func() error {
		if s.peek() != '[' {
			return t.scalarOrSkip(s, depthList)
		}
		return s.array(depthInner, func() error {
			return t.scalarOrSkip(s, depthInner)
		})
	})
	return finishText(t.buf), err
}

// chatText joins the content of every message of the list at s.pos.
func chatText(s *scanner) (string, error) {
	t := textBuf{buf: newTextBuf(len(s.b) - s.pos)}
	err := s.array(depthList, func() error {
		if s.peek() != '{' {
			return s.skipValue(depthList)
		}
		return t.message(s)
	})
	return finishText(t.buf), err
}

// textBuf accumulates the pieces of the routing text, space separated.
type textBuf struct {
	buf    []byte
	pieces int
}

// textMark is a point textBuf can roll back to.
type textMark struct{ len, pieces int }

func (t *textBuf) mark() textMark     { return textMark{len(t.buf), t.pieces} }
func (t *textBuf) reset(m textMark)   { t.buf, t.pieces = t.buf[:m.len], m.pieces }
func (t *textBuf) appendRaw(b []byte) { t.next(); t.buf = append(t.buf, b...) }

// next starts a piece.
func (t *textBuf) next() {
	if t.pieces > 0 {
		t.buf = append(t.buf, ' ')
	}
	t.pieces++
}

// scalarOrSkip appends the string or number at s.pos as a piece, and
// skips any other value (inside a container of depth depth).
func (t *textBuf) scalarOrSkip(s *scanner, depth int) error {
	switch c := s.peek(); {
	case c == '"':
		t.next()
		var err error
		t.buf, err = s.appendString(t.buf)
		return err
	case c == '-' || isDigit(c):
		start := s.pos
		if err := s.skipNumber(); err != nil {
			return err
		}
		t.appendRaw(s.b[start:s.pos])
		return nil
	}
	return s.skipValue(depth)
}

// message appends the "content" of the message object at s.pos. Content
// is decoded as it is met; should "content" repeat, the text of the earlier
// one is rolled back, so the last wins.
func (t *textBuf) message(s *scanner) error {
	m := t.mark()
	return s.object(depthInner, func(_ int, raw []byte, esc bool) error {
		if string(keyName(raw, esc)) != "content" {
			return s.skipValue(depthInner)
		}
		t.reset(m)
		switch s.peek() {
		case '"':
			t.next()
			var err error
			t.buf, err = s.appendString(t.buf)
			return err
		case '[':
			return s.array(depthParts, func() error {
				if s.peek() != '{' {
					return s.skipValue(depthParts)
				}
				return t.part(s, depthPartItem)
			})
		}
		return s.skipValue(depthInner)
	})
}

// blocksText joins the text of the content blocks in the list at s.pos
// (Anthropic's "system" as a list).
func blocksText(s *scanner) (string, error) {
	t := textBuf{buf: newTextBuf(len(s.b) - s.pos)}
	err := s.array(depthList, func() error {
		if s.peek() != '{' {
			return s.skipValue(depthList)
		}
		return t.part(s, depthInner)
	})
	return finishText(t.buf), err
}

// part appends the "text" of the content part at s.pos (an object at
// nesting depth depth) when its "type" is a text type. Both may come in
// any order, so their spans are noted first.
func (t *textBuf) part(s *scanner, depth int) error {
	var typ, text span
	err := s.object(depth, func(_ int, raw []byte, esc bool) error {
		start := s.pos
		err := s.skipValue(depth)
		switch string(keyName(raw, esc)) {
		case "type":
			typ = span{start, s.pos}
		case "text":
			text = span{start, s.pos}
		}
		return err
	})
	if err != nil || !isTextType(s.b[typ.start:typ.end]) || text.end == 0 || s.b[text.start] != '"' {
		return err
	}
	sub := scanner{b: s.b[:text.end], pos: text.start}
	t.next()
	t.buf, err = sub.appendString(t.buf)
	return err
}

// isTextType says whether a "type" value names a text part: "text" (chat,
// Anthropic), "input_text" or "output_text" (Responses).
func isTextType(v []byte) bool {
	switch string(v) {
	case `"text"`, `"input_text"`, `"output_text"`:
		return true
	}
	if len(v) == 0 || v[0] != '"' {
		return false
	}
	switch string(decodeQuoted(v)) {
	case "text", "input_text", "output_text":
		return true
	}
	return false
}

// shortString validates the string at s.pos and returns it decoded, in
// one allocation of its own size: for short values (a model name, a
// rid), which must not cost a buffer sized for the rest of the body.
func (s *scanner) shortString() (string, error) {
	start := s.pos
	kind, err := s.skipString()
	if err != nil {
		return "", err
	}
	if raw := s.b[start+1 : s.pos-1]; kind.plain(raw) {
		return string(raw), nil
	}
	return string(decodeQuoted(s.b[start:s.pos])), nil // escapes, or invalid UTF-8 to replace
}

// sharedString is stringValue without the copy when the string has no
// escapes and valid UTF-8 (the usual prompt): the text then aliases s.b.
func (s *scanner) sharedString() (string, error) {
	open := s.pos
	kind, err := s.skipString()
	if err != nil {
		return "", err
	}
	raw := s.b[open+1 : s.pos-1]
	if kind.plain(raw) {
		if len(raw) == 0 {
			return "", nil
		}
		return unsafe.String(&raw[0], len(raw)), nil
	}
	s.pos = open
	return s.stringValue()
}

// stringValue is appendString into a new string.
func (s *scanner) stringValue() (string, error) {
	buf, err := s.appendString(newTextBuf(len(s.b) - s.pos))
	if err != nil {
		return "", err
	}
	return finishText(buf), nil
}

// maxPrealloc bounds the buffer allocated ahead for a text.
const maxPrealloc = 1 << 20

// newTextBuf returns a buffer for a text read from n bytes of JSON. The
// text is at most about n bytes (more only if invalid UTF-8 is replaced)
// and usually close to it, so this is mostly the one allocation needed;
// the cap keeps a body made mostly of skipped data (say base64 images)
// from costing its size again.
func newTextBuf(n int) []byte {
	return make([]byte, 0, min(n, maxPrealloc))
}

// finishText turns a buffer from newTextBuf into the text. The buffer
// becomes the string without a copy, unless much of it went unused: the
// text is then copied, so that it does not pin the waste.
func finishText(buf []byte) string {
	if waste := cap(buf) - len(buf); waste > 4096 && waste > len(buf) {
		return string(buf)
	}
	return ownString(buf)
}

// ownString turns a buffer the caller owns and never touches again into a
// string without copying it, as strings.Builder does: a prompt's text is
// often most of the body, and a second copy of it is a large allocation.
func ownString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
