package sim

import (
	"slices"
	"strings"
	"testing"
)

func TestTokenizerCounts(t *testing.T) {
	cases := []struct {
		name, kind, text string
		want             int
	}{
		{"empty", TokenizerWords, "", 0},
		{"spaces only", TokenizerWords, " \t\n ", 0},
		{"words", TokenizerWords, "The quick  brown\tfox\n", 4},
		{"unicode spaces separate", TokenizerWords, "a\u00a0b\u3000c", 3},
		{"long word cut every 16 bytes", TokenizerWords, strings.Repeat("x", 40), 3},
		{"bytes4 rounds up", TokenizerBytes4, "abcdefghi", 3},
		{"bytes4 counts spaces", TokenizerBytes4, "a b c d ", 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := len(newTokenizer(tc.kind, 32000).encode(tc.text)); got != tc.want {
				t.Fatalf("%q: %d tokens, want %d", tc.text, got, tc.want)
			}
		})
	}
}

func TestTokenizerIDsAreStable(t *testing.T) {
	tok := newTokenizer(TokenizerWords, 32000)
	a, b := tok.encode("hello world hello"), tok.encode("  hello\nworld hello ")
	if !slices.Equal(a, b) || a[0] != a[2] || a[0] == a[1] {
		t.Fatalf("ids %v vs %v", a, b)
	}
	for _, id := range a {
		if id < 0 || id >= 32000 {
			t.Fatalf("id %d outside the vocabulary", id)
		}
	}
}

func TestGeneratedTextRetokenizesToItsIDs(t *testing.T) {
	for _, kind := range []string{TokenizerWords, TokenizerBytes4} {
		tok := newTokenizer(kind, 32000)
		out := tok.generate(7, seq(0, 10), 0, 25)
		if got := tok.encode(out.text(25)); !slices.Equal(got, out.ids) {
			t.Fatalf("%s: text %q encodes to %v, generated %v", kind, out.text(25), got, out.ids)
		}
	}
}

func TestGenerationIsDeterministic(t *testing.T) {
	tok := newTokenizer(TokenizerWords, 32000)
	a := tok.generate(1, seq(0, 10), 0, 20)
	if b := tok.generate(1, seq(0, 10), 0, 20); !slices.Equal(a.ids, b.ids) {
		t.Fatal("same seed, prompt and sample must give the same output")
	}
	for name, other := range map[string]output{
		"other seed":   tok.generate(2, seq(0, 10), 0, 20),
		"other prompt": tok.generate(1, seq(1, 10), 0, 20),
		"other sample": tok.generate(1, seq(0, 10), 1, 20),
	} {
		if slices.Equal(a.ids, other.ids) {
			t.Fatalf("%s gave the same output", name)
		}
	}
	if lp := a.logprob(3); lp > 0 || lp <= -5 || lp != a.logprob(3) {
		t.Fatalf("logprob %v", lp)
	}
}

func TestChatTemplateSharesPrefixAcrossTurns(t *testing.T) {
	tok := newTokenizer(TokenizerWords, 32000)
	turn1 := []chatMessage{{"system", "be brief"}, {"user", "hello there"}}
	p1 := tok.encode(chatTemplate(turn1))
	answer := tok.generate(0, p1, 0, 5)
	turn2 := append(slices.Clone(turn1), chatMessage{"assistant", answer.text(5)}, chatMessage{"user", "more"})
	p2 := tok.encode(chatTemplate(turn2))
	full1 := append(slices.Clone(p1), answer.ids...)
	if !slices.Equal(p2[:len(full1)], full1) {
		t.Fatalf("turn 2 prompt %v does not extend turn 1 prompt+answer %v", p2, full1)
	}
}
