package answer

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// capture feeds body to a new Capture in chunks of size n (all at once
// when n is 0) and returns its answer.
func capture(f Format, stream bool, max int, body string, n int) (string, bool) {
	c := New(f, stream, max)
	defer c.Release()
	for b := []byte(body); len(b) > 0; {
		k := len(b)
		if n > 0 {
			k = min(n, k)
		}
		c.Write(b[:k])
		b = b[k:]
	}
	a, ok := c.Answer()
	return string(a), ok
}

func sse(events ...string) string {
	var b strings.Builder
	for _, e := range events {
		b.WriteString("data: " + e + "\n\n")
	}
	return b.String()
}

func quote(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

func chatChunk(content string) string {
	return `{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":` + quote(content) + `},"finish_reason":null}]}`
}

func TestCapture(t *testing.T) {
	const long = "ok"
	cases := []struct {
		name   string
		format Format
		stream bool
		body   string
		want   string // "" = no answer
	}{
		{"chat whole", Chat, false,
			`{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"Hi \"there\"\n\u00e9"},"finish_reason":"stop"}],"usage":{}}`,
			"Hi \"there\"\né"},
		{"chat stream", Chat, true,
			`: keep-alive` + "\n\n" + sse(`{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}`,
				chatChunk("Hel"), chatChunk("lo \u65e5"), `{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`,
				`{"choices":[],"usage":{"total_tokens":3}}`, "[DONE]"),
			"Hello \u65e5"},
		{"chat stream CRLF and no space", Chat, true,
			"data:" + chatChunk("a") + "\r\n\r\ndata: " + chatChunk("b") + "\r\n\r\ndata: [DONE]\r\n\r\n", "ab"},
		{"chat stream without [DONE] or last newline", Chat, true, "data: " + chatChunk("a") + "\n\ndata: " + chatChunk("b"), "ab"},
		{"chat null content (tool call)", Chat, false, `{"choices":[{"index":0,"message":{"content":null,"tool_calls":[]}}]}`, ""},
		{"chat two choices", Chat, false, `{"choices":[{"index":0,"message":{"content":"a"}},{"index":1,"message":{"content":"b"}}]}`, ""},
		{"chat stream second choice", Chat, true, sse(chatChunk("a"), `{"choices":[{"index":1,"delta":{"content":"b"}}]}`), ""},
		{"chat stream error event", Chat, true, sse(chatChunk("a"), `{"error":{"message":"boom"}}`), ""},
		{"chat stream unparsable event", Chat, true, sse(chatChunk("a"), `{"choices":[`), ""},
		{"chat content of a wrong type", Chat, false, `{"choices":[{"message":{"content":5}}]}`, ""},
		{"chat error body", Chat, false, `{"error":{"message":"bad"}}`, ""},
		{"chat not an object", Chat, false, `[1]`, ""},
		{"chat truncated body", Chat, false, `{"choices":[{"message":{"content":"a"}}]`, ""},
		{"completion whole", Completion, false, `{"choices":[{"text":" upon a time","index":0}]}`, " upon a time"},
		{"completion stream", Completion, true, sse(`{"choices":[{"text":" upon"}]}`, `{"choices":[{"text":" a time"}]}`, "[DONE]"), " upon a time"},
		{"generate whole", Generate, false, `{"text":" the end","meta_info":{"id":"r"}}`, " the end"},
		{"generate batch", Generate, false, `[{"text":"a"},{"text":"b"}]`, ""},
		{"generate cumulative stream", Generate, true,
			sse(`{"text":" the","meta_info":{}}`, `{"text":" the end","meta_info":{}}`, `{"text":" the end.","meta_info":{}}`, "[DONE]"), " the end."},
		{"generate incremental stream", Generate, true,
			sse(`{"text":" the"}`, `{"text":" end"}`, `{"text":"."}`, "[DONE]"), " the end."},
		{"generate cumulative stream that goes back", Generate, true,
			sse(`{"text":"a"}`, `{"text":"ab"}`, `{"text":"x"}`), ""},
		{"generate stream of another index", Generate, true, sse(`{"text":"a","index":1}`), ""},
		{"generate events after [DONE] ignored", Generate, true, sse(`{"text":"a"}`, "[DONE]", `{"text":"zzz"}`), "a"},
		{"empty answer", Chat, false, `{"choices":[{"message":{"content":""}}]}`, ""},
		{"under the cap", Chat, false, `{"choices":[{"message":{"content":"` + long + `"}}]}`, long},
	}
	for _, tc := range cases {
		for _, n := range []int{0, 1, 7, 64} {
			got, ok := capture(tc.format, tc.stream, 1024, tc.body, n)
			if ok != (tc.want != "") || got != tc.want {
				t.Errorf("%s (chunks of %d): %q, %v; want %q", tc.name, n, got, ok, tc.want)
			}
		}
	}
}

func TestCaptureCap(t *testing.T) {
	answer := strings.Repeat("x", 100)
	whole := `{"choices":[{"message":{"content":"` + answer + `"}}]}`
	if got, ok := capture(Chat, false, 100, whole, 0); !ok || got != answer {
		t.Errorf("answer at the cap: %q, %v", got, ok)
	}
	if _, ok := capture(Chat, false, 99, whole, 0); ok {
		t.Error("answer over the cap was kept")
	}
	var events []string
	for range 100 {
		events = append(events, chatChunk("x"))
	}
	if _, ok := capture(Chat, true, 99, sse(events...), 13); ok {
		t.Error("streamed answer over the cap was kept")
	}
	if got, ok := capture(Chat, true, 100, sse(events...), 13); !ok || got != answer {
		t.Errorf("streamed answer at the cap: %d bytes, %v", len(got), ok)
	}
	// A body far longer than its answer could be (huge metadata) is not
	// buffered without end.
	huge := `{"choices":[{"message":{"content":"a"},"logprobs":"` + strings.Repeat("p", 1<<20) + `"}]}`
	c := New(Chat, false, 100)
	c.Write([]byte(huge))
	if _, ok := c.Answer(); ok || cap(c.line) > 1<<20 {
		t.Errorf("huge body: ok %v, buffered %d", ok, cap(c.line))
	}
	c.Release()
	if _, ok := capture(Chat, false, 0, whole, 0); ok {
		t.Error("cap 0 recorded an answer")
	}
	if _, ok := capture(None, false, 1024, whole, 0); ok {
		t.Error("format None recorded an answer")
	}
}

// TestCaptureReuse checks that a released Capture starts clean.
func TestCaptureReuse(t *testing.T) {
	for i := range 50 {
		want := fmt.Sprint("answer ", i)
		body := sse(`{"text":"`+want[:3]+`"}`, `{"text":"`+want+`"}`)
		if i%2 == 0 {
			body = sse(chatChunk(want[:3]), chatChunk(want[3:]))
		}
		f := Generate
		if i%2 == 0 {
			f = Chat
		}
		if got, ok := capture(f, true, 1024, body, 5); !ok || got != want {
			t.Fatalf("round %d: %q, %v; want %q", i, got, ok, want)
		}
	}
}

func FuzzCapture(f *testing.F) {
	f.Add(uint8(0), []byte(sse(chatChunk("a"), chatChunk("b"), "[DONE]")))
	f.Add(uint8(1), []byte(`{"choices":[{"index":0,"message":{"content":"x\u00e9"}}]}`))
	f.Add(uint8(2), []byte(sse(`{"text":"a"}`, `{"text":"ab"}`)))
	f.Add(uint8(3), []byte(`{"text":"a\"b","meta_info":{"x":[1,{"y":"}"}]}}`))
	f.Fuzz(func(t *testing.T, mode uint8, body []byte) {
		format := Format(mode%3) + Chat
		stream := mode&4 != 0
		one, ok1 := capture(format, stream, 64, string(body), 0)
		split, ok2 := capture(format, stream, 64, string(body), int(mode>>3)+1)
		if one != split || ok1 != ok2 {
			t.Fatalf("chunking changed the answer: %q %v / %q %v", one, ok1, split, ok2)
		}
		if ok1 && (one == "" || len(one) > 64) {
			t.Fatalf("answer %q breaks the cap or is empty", one)
		}
	})
}

// BenchmarkChatStream is the cost per event of reading a streamed chat
// answer as it is relayed.
func BenchmarkChatStream(b *testing.B) {
	var events []string
	for i := range 256 {
		events = append(events, fmt.Sprintf(`{"id":"chatcmpl-8f2a","object":"chat.completion.chunk","created":1733450000,"model":"qwen","choices":[{"index":0,"delta":{"content":" tok%d"},"logprobs":null,"finish_reason":null}]}`, i))
	}
	events = append(events, "[DONE]")
	body := []byte(sse(events...))
	lines := strings.SplitAfter(string(body), "\n\n")
	chunks := make([][]byte, len(lines))
	for i, l := range lines {
		chunks[i] = []byte(l)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for range b.N {
		c := New(Chat, true, 64<<10)
		for _, ch := range chunks {
			c.Write(ch)
		}
		if _, ok := c.Answer(); !ok {
			b.Fatal("no answer")
		}
		c.Release()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(events)), "ns/event")
}
