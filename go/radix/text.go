package radix

import "math/bits"

// Characters. For valid UTF-8 a character is a Unicode scalar value (a rune).
// The tree never validates text (utf8.ValidString costs ~1 ns per byte of CJK
// text, too much for a 400 KB prompt on the request path); instead it counts
// the bytes that are not UTF-8 continuation bytes, which equals the rune count
// for valid UTF-8, and treats a position as a character boundary when the byte
// there is not a continuation byte. Both are local properties (the count of a
// concatenation is the sum of the counts), so matching and accounting agree
// for any input. Invalid input is counted approximately. Only stored text is
// checked: a new leaf whose text starts with a continuation byte or holds more
// than maxRun of them in a row (impossible in valid UTF-8) makes Insert retry
// with strings.ToValidUTF8(text), so every stored label starts a character
// and holds at most four bytes per character: memory stays bounded by the
// character accounting under any input.

const (
	highBits = 0x8080808080808080
	maxRun   = 3 // longest run of continuation bytes valid UTF-8 can hold
)

// Count returns the number of characters in s: its rune count when s is
// valid UTF-8. It reads eight bytes at a time and skips 32-byte blocks of
// ASCII with one test, several times faster than utf8.RuneCountInString.
func Count(s string) int {
	cont := 0
	i := 0
	for ; i+32 <= len(s); i += 32 {
		w0, w1, w2, w3 := load64(s, i), load64(s, i+8), load64(s, i+16), load64(s, i+24)
		if (w0|w1|w2|w3)&highBits == 0 {
			continue
		}
		cont += bits.OnesCount64(contFlags(w0)) + bits.OnesCount64(contFlags(w1)) +
			bits.OnesCount64(contFlags(w2)) + bits.OnesCount64(contFlags(w3))
	}
	for ; i+8 <= len(s); i += 8 {
		cont += bits.OnesCount64(contFlags(load64(s, i)))
	}
	for ; i < len(s); i++ {
		if isCont(s[i]) {
			cont++
		}
	}
	return len(s) - cont
}

// storable counts the characters of s, a new leaf's text, and reports
// whether s may be stored as is: it starts a character and holds no run of
// continuation bytes longer than maxRun.
func storable(s string) (chars int, ok bool) {
	var cont int
	var prev, runs uint64 // continuation flags of the previous word; long runs seen
	i := 0
	for ; i+8 <= len(s); i += 8 {
		c := contFlags(load64(s, i))
		cont += bits.OnesCount64(c)
		runs |= longRuns(c, prev)
		prev = c
	}
	if i < len(s) { // the tail, zero-padded (zero is not a continuation byte)
		var w uint64
		for j := len(s) - 1; j >= i; j-- {
			w = w<<8 | uint64(s[j])
		}
		c := contFlags(w)
		cont += bits.OnesCount64(c)
		runs |= longRuns(c, prev)
	}
	return len(s) - cont, runs == 0 && (s == "" || !isCont(s[0]))
}

// contFlags sets bit 7 of each byte of w that is a continuation byte (10xxxxxx).
func contFlags(w uint64) uint64 { return w &^ (w << 1) & highBits }

// longRuns is non-zero when four flagged bytes in a row occur in c, or
// across the boundary between prev (the word before) and c.
func longRuns(c, prev uint64) uint64 {
	x := prev>>40 | c<<24 // prev's last three bytes, then c's first five
	return c&(c<<8)&(c<<16)&(c<<24) | x&(x<<8)&(x<<16)&(x<<24)
}

// load64 reads s[i:i+8] as a little-endian word (the compiler merges the loads).
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func isCont(b byte) bool { return b&0xC0 == 0x80 }

// boundary reports whether a character starts at byte i of s (or i is its end).
func boundary(s string, i int) bool { return i >= len(s) || !isCont(s[i]) }

// firstKey returns the key of s's first character (its bytes packed into a
// uint32, unambiguous because continuation bytes are never zero) and that
// character's length in bytes, at most 1+maxRun (longer runs of invalid
// bytes are cut there). s must be non-empty.
func firstKey(s string) (key uint32, size int) {
	key = uint32(s[0])
	for size = 1; size < len(s) && size <= maxRun && isCont(s[size]); size++ {
		key |= uint32(s[size]) << (8 * size)
	}
	return key, size
}

// commonPrefix returns the length in bytes of the longest common prefix of a
// and b that ends on a character boundary of both, and at least keySize (the
// caller found both strings start with the same character).
func commonPrefix(a, b string, keySize int) int {
	i := equalPrefix(a, b)
	for i > keySize && !(boundary(a, i) && boundary(b, i)) {
		i--
	}
	return i
}

// equalPrefix returns the length of the longest common byte prefix. It
// compares growing blocks with the runtime's vectorised string equality, then
// bisects the first block that differs, so a 400 KB match costs a few
// memequal calls rather than a byte loop.
func equalPrefix(a, b string) int {
	n := min(len(a), len(b))
	i := 0
	for size := 16; i < n; size *= 2 {
		end := min(i+size, n)
		if a[i:end] != b[i:end] {
			return i + bisect(a[i:end], b[i:end])
		}
		i = end
	}
	return n
}

// bisect finds the first differing byte of equal-length a and b, which differ.
func bisect(a, b string) int {
	lo, hi := 0, len(a) // a[:lo] == b[:lo]; a[:hi] != b[:hi]
	for hi-lo > 16 {
		mid := (lo + hi) / 2
		if a[lo:mid] == b[lo:mid] {
			lo = mid
		} else {
			hi = mid
		}
	}
	for lo < hi && a[lo] == b[lo] {
		lo++
	}
	return lo
}
