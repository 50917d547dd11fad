package sim

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxWordBytes cuts an unbroken run of text into several tokens, so a
// prompt without spaces still costs what its length suggests.
const maxWordBytes = 16

// tokenizer turns text into token ids deterministically; it is stateless
// and safe for concurrent use.
//
//   - words: each whitespace-separated word is one token (a word longer
//     than 16 bytes is one token per 16 bytes); id = FNV-1a(word) mod vocab.
//   - bytes4: every 4 bytes of the text, whitespace included, is one token;
//     id = FNV-1a(chunk) mod vocab.
//
// input_ids sent by a client bypass the tokenizer and are used as given.
type tokenizer struct {
	bytes4 bool
	vocab  uint64
}

func newTokenizer(kind string, vocab int) tokenizer {
	return tokenizer{bytes4: kind == TokenizerBytes4, vocab: uint64(vocab)}
}

func (t tokenizer) id(piece string) int {
	return int(fnv64(piece) % t.vocab)
}

// encode returns the token ids of text.
func (t tokenizer) encode(text string) []int {
	if t.bytes4 {
		ids := make([]int, 0, (len(text)+3)/4)
		for i := 0; i < len(text); i += 4 {
			ids = append(ids, t.id(text[i:min(i+4, len(text))]))
		}
		return ids
	}
	ids := make([]int, 0, len(text)/5+1)
	for i := 0; i < len(text); {
		start := skipSpace(text, i)
		end := wordEnd(text, start)
		for j := start; j < end; j += maxWordBytes {
			ids = append(ids, t.id(text[j:min(j+maxWordBytes, end)]))
		}
		i = end
	}
	return ids
}

// piece is the text of the i-th generated token holding word w: for words
// the pieces join with single spaces ("w0", " w1", ...); for bytes4 each
// piece is w plus a space, exactly 4 bytes, so the output text re-tokenizes
// to the same ids whenever it starts on a 4-byte boundary.
func (t tokenizer) piece(i int, w string) string {
	if t.bytes4 {
		return w + " "
	}
	if i == 0 {
		return w
	}
	return " " + w
}

func skipSpace(s string, i int) int {
	for i < len(s) {
		r, n := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		if !unicode.IsSpace(r) {
			return i
		}
		i += n
	}
	return i
}

func wordEnd(s string, i int) int {
	for i < len(s) {
		r, n := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		if unicode.IsSpace(r) {
			return i
		}
		i += n
	}
	return i
}

// chatTemplate renders messages as one prompt so that a growing
// conversation shares its prefix with the previous turn's prompt and
// answer:
//
//	<|system|> You are terse. <|end|>
//	<|user|> Hi <|end|>
//	<|assistant|>
func chatTemplate(msgs []chatMessage) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString("<|")
		b.WriteString(m.Role)
		b.WriteString("|> ")
		b.WriteString(m.Text)
		b.WriteString(" <|end|>\n")
	}
	b.WriteString("<|assistant|>")
	return b.String()
}

// outputWords is the generator's vocabulary: three-letter words, so a
// bytes4 piece ("the ") is exactly one token.
var outputWords = [...]string{
	"the", "and", "for", "are", "but", "not", "you", "all",
	"any", "can", "had", "her", "was", "one", "our", "out",
	"day", "get", "has", "him", "his", "how", "man", "new",
	"now", "old", "see", "two", "way", "who", "boy", "did",
	"its", "let", "put", "say", "she", "too", "use", "sky",
	"sea", "sun", "red", "big", "cat", "dog", "run", "map",
	"key", "box", "cup", "top", "low", "far", "end", "yes",
	"art", "air", "ice", "oil", "job", "law", "war", "age",
}

// output is one generated sequence: its token ids and text pieces.
type output struct {
	ids    []int
	pieces []string
	key    uint64 // seeds the logprobs
}

// generate returns the n tokens a request produces: a pure function of
// the server seed, the prompt and the sample index, so every run, every
// server of a cluster and both sides of a PD pair agree.
func (t tokenizer) generate(seed uint64, prompt []int, sample, n int) output {
	key := mix64(seed ^ hashTokens(prompt) ^ mix64(uint64(sample)+0x51ed))
	out := output{ids: make([]int, n), pieces: make([]string, n), key: key}
	state := key
	for i := range n {
		state = mix64(state + 0x9e3779b97f4a7c15)
		w := outputWords[state%uint64(len(outputWords))]
		out.pieces[i] = t.piece(i, w)
		out.ids[i] = t.id(w)
		if t.bytes4 {
			out.ids[i] = t.id(out.pieces[i])
		}
	}
	return out
}

// text joins the first n pieces.
func (o output) text(n int) string {
	return strings.Join(o.pieces[:n], "")
}

// logprob is the deterministic log-probability of output token i, in (-5, 0].
func (o output) logprob(i int) float64 {
	return -float64(mix64(o.key^uint64(i+1))%5000) / 1000
}

// inputLogprob is the log-probability of prompt token i (i >= 1).
func inputLogprob(prompt []int, i int) float64 {
	return -float64(mix64(uint64(prompt[i])<<20^uint64(i))%5000) / 1000
}

func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// mix64 is the splitmix64 finalizer: a cheap, well-spread 64-bit hash.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// hashTokens chains mix64 over ids: equal sequences hash equal.
func hashTokens(ids []int) uint64 {
	h := uint64(len(ids))
	for _, id := range ids {
		h = mix64(h ^ uint64(id))
	}
	return h
}
