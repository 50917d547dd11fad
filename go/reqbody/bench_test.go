package reqbody

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// benchBodies are request bodies of the sizes the router sees. Prompts
// carry escaped newlines every line, as real ones do.
func benchBodies() []struct {
	name  string
	route Route
	body  []byte
} {
	prompt := func(size int) string {
		line := `The quick brown fox jumps over the lazy dog; é 世界. Summarize the following document carefully.\n`
		return strings.Repeat(line, size/len(line)+1)[:size/len(line)*len(line)]
	}
	generate := func(text string) []byte {
		return []byte(`{"text":"` + text + `","sampling_params":{"temperature":0,"max_new_tokens":128,"stop":["\n\n"]},"stream":true,"rid":"req-1"}`)
	}
	var msgs []string
	for i := range 50 {
		role := [...]string{"user", "assistant"}[i%2]
		msgs = append(msgs, fmt.Sprintf(`{"role":%q,"content":"Message %d: %s"}`, role, i, prompt(300)))
	}
	chat := `{"model":"m","messages":[` + strings.Join(msgs, ",") + `],"stream":false,"max_tokens":64}`
	anthropic := `{"model":"m","system":[{"type":"text","text":"` + prompt(2000) + `"}],"messages":[` + strings.Join(msgs[:10], ",") + `],"max_tokens":64,"stream":true}`
	return []struct {
		name  string
		route Route
		body  []byte
	}{
		{"generate_200B", Generate, []byte(`{"text":"The capital of France is","sampling_params":{"temperature":0.7,"top_p":0.9,"max_new_tokens":32,"stop":["\n"]},"stream":false,"rid":"0f9d3c1e-request"}`)},
		{"generate_1KB", Generate, generate(prompt(900))},
		{"generate_400KB", Generate, generate(prompt(400 << 10))},
		{"chat_50_messages", ChatCompletions, []byte(chat)},
		{"anthropic_10_messages", Messages, []byte(anthropic)},
	}
}

// baseline is what a plain encoding/json decode of the routing fields costs.
type baseline struct {
	Text     string `json:"text"`
	Stream   bool   `json:"stream"`
	Messages []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
}

func BenchmarkParse(b *testing.B) {
	for _, bb := range benchBodies() {
		b.Run(bb.name+"/reqbody", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bb.body)))
			for b.Loop() {
				if _, err := Parse(bb.route, bb.body, true); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bb.name+"/reqbody_no_text", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bb.body)))
			for b.Loop() {
				if _, err := Parse(bb.route, bb.body, false); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bb.name+"/encoding_json", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bb.body)))
			for b.Loop() {
				var v baseline
				if err := json.Unmarshal(bb.body, &v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkInjectBootstrap(b *testing.B) {
	port := 8998
	for _, bb := range benchBodies() {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bb.body)))
			for b.Loop() {
				if _, err := InjectBootstrap(bb.body, "10.0.0.1", &port, []uint64{1 << 62}, false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkInjectRank is what dp_aware adds to a regular request: a copy
// of the body with the rank spliced in at the place Parse found (edit), or
// with a validating scan first (scan, InjectRank).
func BenchmarkInjectRank(b *testing.B) {
	for _, bb := range benchBodies() {
		_, e, err := ParseEdit(bb.route, bb.body, false)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bb.name+"/edit", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bb.body)))
			for b.Loop() {
				if _, err := e.Inject(nil, 3); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bb.name+"/scan", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bb.body)))
			for b.Loop() {
				if _, err := InjectRank(bb.body, 3); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestBenchBodiesParse(t *testing.T) {
	for _, bb := range benchBodies() {
		got, err := Parse(bb.route, bb.body, true)
		want, _ := refParse(bb.route, bb.body)
		if err != nil || got != want {
			t.Errorf("%s: Parse disagrees with the reference (err %v)", bb.name, err)
		}
	}
}

// BenchmarkParseSharedPlain is cache_aware's case of a long prompt without
// escapes: validated and used in place (ParseEditShared).
func BenchmarkParseSharedPlain(b *testing.B) { benchParsePlain(b, true) }

// BenchmarkParseValidateOnly is BenchmarkParseSharedPlain's body for a
// policy that reads no text (round_robin): validation and the model, rid
// and stream fields only. The difference is what reading the text costs.
func BenchmarkParseValidateOnly(b *testing.B) { benchParsePlain(b, false) }

func benchParsePlain(b *testing.B, needText bool) {
	body := []byte(`{"text":"` + strings.Repeat("lorem ipsum dolor sit amet ", 400<<10/27) + `","stream":false}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, _, err := ParseEditShared(Generate, body, needText); err != nil {
			b.Fatal(err)
		}
	}
}
