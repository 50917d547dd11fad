package reqbody

import (
	"strings"
	"testing"
)

// TestNextSpecial checks the word-at-a-time search against a plain loop
// for every byte value at every position of its 32-byte blocks, words and
// tail, next to every other special value (borrows between bytes are the
// risk), and that it never calls a run ASCII that is not.
func TestNextSpecial(t *testing.T) {
	naive := func(b []byte, i int) int {
		for ; i < len(b); i++ {
			if c := b[i]; c == '"' || c == '\\' || c < 0x20 {
				return i
			}
		}
		return len(b)
	}
	others := []byte{'a', ' ', '!', '#', 0x1f, 0x20, 0x21, '"', '\\', '[', ']', 0x7f, 0x80, 0xa2, 0xdc, 0xff}
	buf := make([]byte, 72) // two 32-byte blocks, a word and a tail
	for c := range 256 {
		for _, o := range others {
			for pos := range len(buf) - 2 {
				for k := range buf {
					buf[k] = 'x'
				}
				buf[pos], buf[pos+2] = byte(c), o
				for start := range 3 {
					got, wide := nextSpecial(buf, start)
					if want := naive(buf, start); got != want {
						t.Fatalf("nextSpecial(%q, %d) = %d, want %d", buf, start, got, want)
					}
					if wide&highs == 0 && !isASCII(buf[start:got]) {
						t.Fatalf("nextSpecial(%q, %d) says ASCII, passing %q", buf, start, buf[start:got])
					}
				}
			}
		}
	}
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// TestLongStrings covers strings longer than utf8Window, whose UTF-8 is
// checked window by window: invalid bytes and escapes on either side of a
// window's end must decode as with encoding/json.
func TestLongStrings(t *testing.T) {
	line := `plain ascii text é 世界 \n`
	base := strings.Repeat(line, 3*utf8Window/len(line))
	for _, near := range []int{0, 7, utf8Window - 3, utf8Window, utf8Window + 1, 2*utf8Window + 5, len(base) - 1} {
		at := near/len(line)*len(line) + near%5 // inside "plain", not in an escape
		for _, insert := range []string{"\xff", "\xe4\xb8", `\ud83d`, `\ud83d\ude00`, "\xed\xa0\x80", `\\`} {
			body := []byte(`{"text":"` + base[:at] + insert + base[at:] + `"}`)
			got, err := Parse(Generate, body, true)
			want, _ := refParse(Generate, body)
			if err != nil || got != want {
				t.Fatalf("insert %q at %d: Parse differs from encoding/json (err %v)", insert, at, err)
			}
		}
	}
}
