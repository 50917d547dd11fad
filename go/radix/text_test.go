package radix

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCountMatchesRuneCountForValidText(t *testing.T) {
	alphabet := []rune("ab é中文🎉ßж\u0000")
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 300; n++ {
		var b strings.Builder
		for range n {
			b.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		s := b.String()
		for _, sub := range []string{s, strings.Repeat("x", n%40) + s} {
			if got, want := Count(sub), utf8.RuneCountInString(sub); got != want {
				t.Fatalf("Count(%q) = %d, want %d", sub, got, want)
			}
		}
	}
}

func TestStorableRejectsWhatValidUTF8CannotHold(t *testing.T) {
	cases := []struct {
		name string
		in   string
		ok   bool
	}{
		{"empty", "", true},
		{"ascii", "hello", true},
		{"cjk and emoji", "你好🎉", true},
		{"stray continuation bytes", "a\x80\x80b", true},
		{"starts inside a character", "\x80abc", false},
		{"run of four", "a\x80\x80\x80\x80b", false},
		{"run across words", strings.Repeat("a", 6) + "\x80\x80\x80\x80" + strings.Repeat("b", 40), false},
		{"run in the tail", strings.Repeat("a", 16) + "é\x80\x80\x80", false},
		{"long valid text", strings.Repeat("é中🎉", 40), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, ok := storable(c.in)
			if ok != c.ok || n != Count(c.in) {
				t.Fatalf("storable = %d, %v; want %d, %v", n, ok, Count(c.in), c.ok)
			}
		})
	}
}

func TestCommonPrefixStopsOnCharacterBoundaries(t *testing.T) {
	long := strings.Repeat("abcdefgh", 5000)
	cases := []struct {
		name, a, b string
		want       int // bytes
	}{
		{"equal", "hello", "hello", 5},
		{"one shorter", "hello", "hello world", 5},
		{"ascii divergence", "hello world", "hello there", 6},
		{"two-byte runes share a lead byte", "xé", "xê", 1},
		{"emoji share three bytes", "🎉🎊", "🎉🎈", 4},
		{"cjk share two bytes", "你好中", "你好丫", 6},
		{"long divergence", long + "X" + long, long + "Y", len(long)},
		{"long divergence inside a rune", long + "中", long + "丫", len(long)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, size := firstKey(c.a)
			if got := commonPrefix(c.a, c.b, size); got != c.want {
				t.Fatalf("commonPrefix = %d, want %d", got, c.want)
			}
		})
	}
}

func TestFirstKeyDistinguishesCharacters(t *testing.T) {
	chars := []string{"a", "\x00", "é", "ê", "中", "丫", "🎉", "🎊", "\x80", "\x80\x80", "a\x80"}
	seen := map[uint32]string{}
	for _, c := range chars {
		k, size := firstKey(c + "z")
		if size != len(c) {
			t.Errorf("firstKey(%q) size %d, want %d", c, size, len(c))
		}
		if prev, dup := seen[k]; dup {
			t.Errorf("%q and %q share key %#x", prev, c, k)
		}
		seen[k] = c
	}
}
