package reqbody

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// Strings are scanned eight bytes at a time: a prompt is one long string,
// and finding its end is most of the work of a Parse.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// specialMask flags, in the high bit of each byte of w (little-endian, so
// byte k is bits 8k..8k+7), the ASCII bytes that end a plain run inside a
// string: '"', '\\' and control characters. Per byte, (x^2)-0x21 wraps
// around (setting the high bit) exactly when x < 0x20 or x == '"' (x^2 is
// then below 0x21: the xor swaps 0x22 with 0x20 and keeps 0..0x1f below
// it), and (x^'\\')-1 exactly when x == '\\'; bytes >= 0x80 are masked
// out. A wrap borrows from the byte above, so flags above the lowest may be
// spurious; only the lowest is used.
func specialMask(w uint64) uint64 {
	return (((w ^ ones*2) - ones*0x21) | ((w ^ ones*'\\') - ones)) &^ w & highs
}

// nextSpecial returns the index of the first '"', '\\' or control byte in
// b at or after i, or len(b), and the bitwise OR of the bytes it read: bit
// 7 of some byte of wide is set if a byte it passed is not ASCII (it may
// also be set by one of the few bytes it read past the index). It tests 32
// bytes per branch; the words' tests are independent, so they overlap.
func nextSpecial(b []byte, i int) (j int, wide uint64) {
	for ; i+32 <= len(b); i += 32 {
		w0, w1 := binary.LittleEndian.Uint64(b[i:]), binary.LittleEndian.Uint64(b[i+8:])
		w2, w3 := binary.LittleEndian.Uint64(b[i+16:]), binary.LittleEndian.Uint64(b[i+24:])
		wide |= w0 | w1 | w2 | w3
		if specialMask(w0)|specialMask(w1)|specialMask(w2)|specialMask(w3) != 0 {
			break
		}
	}
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		wide |= w
		if m := specialMask(w); m != 0 {
			return i + bits.TrailingZeros64(m)/8, wide
		}
	}
	for ; i < len(b); i++ {
		c := b[i]
		if c == '"' || c == '\\' || c < 0x20 {
			return i, wide
		}
		wide |= uint64(c)
	}
	return len(b), wide
}

// strKind says what skipString found in a string.
type strKind uint8

const (
	strEscaped strKind = 1 << iota // it holds escapes
	strWide                        // it may hold bytes that are not ASCII
)

// skipString validates the string whose opening quote is at s.pos and
// moves past its closing quote, saying whether it holds escapes and
// whether it is all ASCII (then it is valid UTF-8 without a check). Bytes
// >= 0x80 are not checked: encoding/json accepts invalid UTF-8 too.
func (s *scanner) skipString() (strKind, error) {
	var kind strKind
	var wide uint64
	i := s.pos + 1
	for {
		var w uint64
		i, w = nextSpecial(s.b, i)
		wide |= w
		if wide&highs != 0 {
			kind |= strWide
		}
		s.pos = i
		switch {
		case i >= len(s.b):
			return kind, s.syntaxError("")
		case s.b[i] == '"':
			s.pos = i + 1
			return kind, nil
		case s.b[i] == '\\':
			kind |= strEscaped
			n := escapeLen(s.b[i:])
			if n < 0 {
				s.pos = i - n
				return kind, s.syntaxError("in string escape code")
			}
			i += n
		default:
			return kind, s.syntaxError("in string literal")
		}
	}
}

// plain reports whether the string is its own decoding: no escapes, and
// valid UTF-8 (raw is its content; checked only when it is not ASCII).
func (k strKind) plain(raw []byte) bool {
	return k&strEscaped == 0 && (k&strWide == 0 || utf8.Valid(raw))
}

// escapeLen returns the length of the valid escape at the start of b
// (b[0] == '\\'), or minus the offset of the first bad byte.
func escapeLen(b []byte) int {
	if len(b) < 2 {
		return -1
	}
	switch b[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2
	case 'u':
		for k := 2; k < 6; k++ {
			if k >= len(b) || hexVal(b[k]) < 0 {
				return -k
			}
		}
		return 6
	}
	return -1
}

func hexVal(c byte) rune {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0')
	case c >= 'a' && c <= 'f':
		return rune(c - 'a' + 10)
	case c >= 'A' && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

// hex4 decodes `\uXXXX` at the start of b, or returns -1.
func hex4(b []byte) rune {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range b[2:6] {
		v := hexVal(c)
		if v < 0 {
			return -1
		}
		r = r<<4 | v
	}
	return r
}

// utf8Window is how many bytes of a string appendString copies before it
// checks their UTF-8 in one utf8.Valid call (a call per short run between
// escapes would cost more than the check itself).
const utf8Window = 16 << 10

// appendString validates and decodes the string whose opening quote is at
// s.pos onto dst, and moves past it. Decoding matches encoding/json: invalid
// UTF-8 bytes and unpaired surrogate escapes each become U+FFFD.
//
// Runs between escapes are found eight bytes at a time and copied whole;
// their UTF-8 is checked afterwards, a window of them at a time, and a
// window found invalid (rare) is decoded again with replacement. Windows
// end at an ASCII byte ('\\' or '"'), so no UTF-8 sequence straddles two.
func (s *scanner) appendString(dst []byte) ([]byte, error) {
	b := s.b
	win, mark := s.pos+1, len(dst) // unchecked source bytes start at win, their output at mark
	for i := s.pos + 1; ; {
		j, _ := nextSpecial(b, i)
		dst = append(dst, b[i:j]...)
		s.pos = j
		if j >= len(b) {
			return dst, s.syntaxError("")
		}
		if b[j] == '"' || j-win >= utf8Window {
			dst = checkUTF8(dst, mark, b[win:j])
			win, mark = j, len(dst)
		}
		switch {
		case b[j] == '"':
			s.pos = j + 1
			return dst, nil
		case b[j] != '\\':
			return dst, s.syntaxError("in string literal")
		}
		if n := escapeLen(b[j:]); n < 0 {
			s.pos = j - n
			return dst, s.syntaxError("in string escape code")
		}
		var n int
		dst, n = appendEscape(dst, b[j:])
		i = j + n
	}
}

// checkUTF8 checks src, a window of string content whose escapes are valid
// and whose decoding is dst[mark:]; if src holds invalid UTF-8, the window
// is decoded again, with each bad byte replaced.
func checkUTF8(dst []byte, mark int, src []byte) []byte {
	if utf8.Valid(src) {
		return dst
	}
	dst = dst[:mark]
	for {
		k := bytes.IndexByte(src, '\\')
		if k < 0 {
			return appendUTF8(dst, src)
		}
		var n int
		dst, n = appendEscape(appendUTF8(dst, src[:k]), src[k:])
		src = src[k+n:]
	}
}

// appendUTF8 appends b, replacing each byte that is not part of a valid
// UTF-8 sequence with U+FFFD (as encoding/json does).
func appendUTF8(dst, b []byte) []byte {
	if utf8.Valid(b) {
		return append(dst, b...)
	}
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			dst = utf8.AppendRune(dst, r)
		} else {
			dst = append(dst, b[:n]...)
		}
		b = b[n:]
	}
	return dst
}

// appendEscape decodes the valid escape at the start of b (b[0] == '\\')
// and returns how many bytes it used. A high surrogate takes the low one that
// follows it, if any; otherwise it is U+FFFD and the next escape is read on
// its own, as encoding/json does.
func appendEscape(dst []byte, b []byte) ([]byte, int) {
	if len(b) < 2 {
		return dst, len(b)
	}
	switch c := b[1]; c {
	case 'b':
		return append(dst, '\b'), 2
	case 'f':
		return append(dst, '\f'), 2
	case 'n':
		return append(dst, '\n'), 2
	case 'r':
		return append(dst, '\r'), 2
	case 't':
		return append(dst, '\t'), 2
	case 'u':
		r := hex4(b)
		if r < 0 {
			return dst, 2
		}
		if utf16.IsSurrogate(r) {
			if pair := utf16.DecodeRune(r, hex4(b[6:])); pair != utf8.RuneError {
				return utf8.AppendRune(dst, pair), 12
			}
			r = utf8.RuneError
		}
		return utf8.AppendRune(dst, r), 6
	default: // '"', '\\', '/'
		return append(dst, c), 2
	}
}

// keyName returns the name of a member key: raw as is, or decoded when it
// has escapes (rare; allocates). raw is the text between the quotes.
func keyName(raw []byte, esc bool) []byte {
	if !esc {
		return raw
	}
	q := make([]byte, 0, len(raw)+2)
	return decodeQuoted(append(append(append(q, '"'), raw...), '"'))
}

// decodeQuoted decodes a validated JSON string, quotes included.
func decodeQuoted(q []byte) []byte {
	s := scanner{b: q}
	out, _ := s.appendString(nil)
	return out
}
