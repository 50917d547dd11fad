package reqbody

import "fmt"

// maxDepth is encoding/json's nesting limit: deeper input is rejected there,
// so it is rejected here too.
const maxDepth = 10000

// scanner walks a body front to back and validates everything it passes
// over, whether it skips a value (this file), or decodes it (str.go, and
// text.go for the routing text, read in the same pass).
type scanner struct {
	b   []byte
	pos int
}

// syntaxError builds the error for the byte at s.pos (or end of input).
func (s *scanner) syntaxError(what string) error {
	if s.pos >= len(s.b) {
		return fmt.Errorf("%w: unexpected end of input", ErrMalformed)
	}
	c := s.b[s.pos]
	ch := fmt.Sprintf("0x%02x", c)
	if c >= 0x20 && c < 0x7f {
		ch = fmt.Sprintf("%q", rune(c))
	}
	return fmt.Errorf("%w: invalid character %s %s at offset %d", ErrMalformed, ch, what, s.pos)
}

func (s *scanner) skipWS() {
	for s.pos < len(s.b) {
		switch s.b[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// peek returns the byte at s.pos, or 0 at end of input (0 is never valid
// where peek is used, so it fails like any other bad byte).
func (s *scanner) peek() byte {
	if s.pos < len(s.b) {
		return s.b[s.pos]
	}
	return 0
}

// expect skips whitespace and consumes c.
func (s *scanner) expect(c byte, what string) error {
	s.skipWS()
	if s.peek() != c {
		return s.syntaxError(what)
	}
	s.pos++
	return nil
}

// object validates the object at s.pos (whitespace skipped), whose nesting
// depth is depth (1 for the top level), and calls member for each member
// with the offset of the key's opening quote, the raw key (between the
// quotes) and whether it has escapes; s.pos
// is then at the start of the member's value, which member must consume
// (and validate) with a scanner method before returning.
func (s *scanner) object(depth int, member func(at int, key []byte, esc bool) error) error {
	if depth > maxDepth {
		return s.syntaxError("(exceeded max depth)")
	}
	if err := s.expect('{', "looking for beginning of object"); err != nil {
		return err
	}
	s.skipWS()
	if s.peek() == '}' {
		s.pos++
		return nil
	}
	for {
		if err := s.memberKey(member); err != nil {
			return err
		}
		s.skipWS()
		switch s.peek() {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil
		default:
			return s.syntaxError("after object member")
		}
	}
}

// memberKey reads `"key" :` and hands over to member for the value.
func (s *scanner) memberKey(member func(at int, key []byte, esc bool) error) error {
	s.skipWS()
	if s.peek() != '"' {
		return s.syntaxError("looking for beginning of object key string")
	}
	at := s.pos
	kind, err := s.skipString()
	if err != nil {
		return err
	}
	esc := kind&strEscaped != 0
	key := s.b[at+1 : s.pos-1]
	if err := s.expect(':', "after object key"); err != nil {
		return err
	}
	s.skipWS()
	return member(at, key, esc)
}

// array validates the array at s.pos, whose nesting depth is depth, and
// calls elem for each element with s.pos at its start; elem must consume it.
func (s *scanner) array(depth int, elem func() error) error {
	if depth > maxDepth {
		return s.syntaxError("(exceeded max depth)")
	}
	if err := s.expect('[', "looking for beginning of array"); err != nil {
		return err
	}
	s.skipWS()
	if s.peek() == ']' {
		s.pos++
		return nil
	}
	for {
		s.skipWS()
		if err := elem(); err != nil {
			return err
		}
		s.skipWS()
		switch s.peek() {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return nil
		default:
			return s.syntaxError("after array element")
		}
	}
}

// skipValue validates and passes over the value at s.pos (whitespace
// skipped) inside a container of nesting depth depth. It is iterative, with
// one bit per open container, so deep input costs no recursion and no
// allocation below 256 levels.
func (s *scanner) skipValue(depth int) error {
	s.skipWS()
	if c := s.peek(); c != '{' && c != '[' {
		return s.skipScalar() // the common case, without the stack
	}
	var st bitStack
	for {
		s.skipWS()
		c := s.peek()
		if c == '{' || c == '[' {
			if depth+st.n+1 > maxDepth {
				return s.syntaxError("(exceeded max depth)")
			}
			s.pos++
			s.skipWS()
			if c == '{' && s.peek() != '}' {
				st.push(true)
				if err := s.keyColon(); err != nil {
					return err
				}
				continue
			}
			if c == '[' && s.peek() != ']' {
				st.push(false)
				continue
			}
			s.pos++ // empty container
		} else if err := s.skipScalar(); err != nil {
			return err
		}
		done, err := s.afterValue(&st)
		if done || err != nil {
			return err
		}
	}
}

// afterValue consumes what follows a value inside the containers of st:
// closing brackets, then either a comma (and the next key, in an object) or
// the end of the outermost container. done reports that st is empty.
func (s *scanner) afterValue(st *bitStack) (done bool, err error) {
	for st.n > 0 {
		s.skipWS()
		c := s.peek()
		inObject := st.top()
		switch {
		case c == ',' && inObject:
			s.pos++
			return false, s.keyColon()
		case c == ',':
			s.pos++
			return false, nil
		case c == '}' && inObject, c == ']' && !inObject:
			s.pos++
			st.pop()
		case inObject:
			return false, s.syntaxError("after object member")
		default:
			return false, s.syntaxError("after array element")
		}
	}
	return true, nil
}

// keyColon consumes `"key" :` inside an object being skipped.
func (s *scanner) keyColon() error {
	s.skipWS()
	if s.peek() != '"' {
		return s.syntaxError("looking for beginning of object key string")
	}
	if _, err := s.skipString(); err != nil {
		return err
	}
	return s.expect(':', "after object key")
}

// skipScalar passes over a string, number or literal at s.pos.
func (s *scanner) skipScalar() error {
	switch c := s.peek(); {
	case c == '"':
		_, err := s.skipString()
		return err
	case c == '-' || c >= '0' && c <= '9':
		return s.skipNumber()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return s.syntaxError("looking for beginning of value")
}

func (s *scanner) literal(lit string) error {
	for i := 0; i < len(lit); i++ {
		if s.peek() != lit[i] {
			return s.syntaxError("in literal " + lit)
		}
		s.pos++
	}
	return nil
}

// skipNumber passes over -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
// The byte after it is the caller's to check (as in "01", where the '1'
// fails as an unexpected character after a value).
func (s *scanner) skipNumber() error {
	if s.peek() == '-' {
		s.pos++
	}
	switch c := s.peek(); {
	case c == '0':
		s.pos++
	case c >= '1' && c <= '9':
		s.digits()
	default:
		return s.syntaxError("in numeric literal")
	}
	if s.peek() == '.' {
		s.pos++
		if !isDigit(s.peek()) {
			return s.syntaxError("after decimal point in numeric literal")
		}
		s.digits()
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.pos++
		if c := s.peek(); c == '+' || c == '-' {
			s.pos++
		}
		if !isDigit(s.peek()) {
			return s.syntaxError("in exponent of numeric literal")
		}
		s.digits()
	}
	return nil
}

func (s *scanner) digits() {
	for isDigit(s.peek()) {
		s.pos++
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// bitStack records, per open container, whether it is an object. The
// first 256 levels live in the struct itself (no allocation).
type bitStack struct {
	n    int
	low  [4]uint64
	high []uint64
}

// word returns the word holding bit i, growing the stack as needed.
func (b *bitStack) word(i int) *uint64 {
	w := i / 64
	if w < len(b.low) {
		return &b.low[w]
	}
	w -= len(b.low)
	if w == len(b.high) {
		b.high = append(b.high, 0)
	}
	return &b.high[w]
}

func (b *bitStack) push(object bool) {
	w, bit := b.word(b.n), uint64(1)<<(b.n%64)
	if object {
		*w |= bit
	} else {
		*w &^= bit
	}
	b.n++
}

func (b *bitStack) pop() { b.n-- }

func (b *bitStack) top() bool {
	i := b.n - 1
	return *b.word(i)&(uint64(1)<<(i%64)) != 0
}
