package reqbody

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

type parseCase struct {
	name  string
	route Route
	body  string
	want  Info
}

var generateCases = []parseCase{
	{"text string", Generate, `{"text":"Hello world","stream":true}`, Info{Text: "Hello world", Stream: true}},
	{"text with whitespace everywhere", Generate, " \t\r\n{ \"text\" :\n\"a b\" , \"stream\" : false }\n ", Info{Text: "a b"}},
	{"text list is a batch", Generate, `{"text":["a","b","c"]}`, Info{Text: "a b c", BatchSize: 3}},
	{"text list of one is a batch of one", Generate, `{"text":["only"]}`, Info{Text: "only", BatchSize: 1}},
	{"empty text list is no batch", Generate, `{"text":[]}`, Info{}},
	{"text beats prompt and input_ids", Generate, `{"input_ids":[1],"prompt":"p","text":"t"}`, Info{Text: "t"}},
	{"empty text still beats prompt", Generate, `{"text":"","prompt":"p"}`, Info{}},
	{"null text falls back to prompt", Generate, `{"text":null,"prompt":"p"}`, Info{Text: "p"}},
	{"text of a wrong type falls back", Generate, `{"text":5,"prompt":["p","q"]}`, Info{Text: "p q"}},
	{"prompt list is no batch on /generate", Generate, `{"prompt":["p","q"]}`, Info{Text: "p q"}},
	{"input_ids", Generate, `{"input_ids":[101,2009,-3,0]}`, Info{Text: "101 2009 -3 0"}},
	{"input_ids numbers as written", Generate, `{"input_ids":[1.5e3,0.0]}`, Info{Text: "1.5e3 0.0"}},
	{"input_ids batch", Generate, `{"input_ids":[[1,2],[3],[]]}`, Info{Text: "1 2 3", BatchSize: 3}},
	{"input_ids list of one list", Generate, `{"input_ids":[[7]]}`, Info{Text: "7", BatchSize: 1}},
	{"input_ids beaten by text list", Generate, `{"input_ids":[[1],[2]],"text":["a"]}`, Info{Text: "a", BatchSize: 1}},
	{"input_ids ignored when prompt present", Generate, `{"input_ids":[[1],[2]],"prompt":"p"}`, Info{Text: "p"}},
	{"list skips objects and literals", Generate, `{"text":["a",{"text":"x"},null,true,"b"]}`, Info{Text: "a b", BatchSize: 5}},
	{"list flattens one level only", Generate, `{"text":[["a",["deep"]],"b"]}`, Info{Text: "a b", BatchSize: 2}},
	{"no text at all", Generate, `{"sampling_params":{"text":"nested"}}`, Info{}},
	{"nested keys ignored", Generate, `{"x":{"text":"no","stream":true},"y":[{"text":"no"}],"text":"yes"}`, Info{Text: "yes"}},
	{"duplicate key last wins", Generate, `{"text":"first","text":"second"}`, Info{Text: "second"}},
	{"duplicate key last wins even if null", Generate, `{"text":"first","text":null}`, Info{}},
	{"duplicate stream last wins", Generate, `{"stream":true,"stream":false}`, Info{}},
	{"stream must be the literal true", Generate, `{"stream":"true"}`, Info{}},
	{"return_logprob", Generate, `{"return_logprob":true,"text":"x"}`, Info{Text: "x", ReturnLogprob: true}},
	{"escaped key matches", Generate, `{"te\u0078t":"esc","str\u0065am":true}`, Info{Text: "esc", Stream: true}},
	{"keys are case sensitive", Generate, `{"Text":"no","STREAM":true}`, Info{}},
	{"escapes decoded", Generate, `{"text":"a\nb\tc\"d\\e\/f\bg\fh\ri"}`, Info{Text: "a\nb\tc\"d\\e/f\bg\fh\ri"}},
	{"unicode escapes", Generate, `{"text":"\u00e9\u4e2d\u0000"}`, Info{Text: "é中\x00"}},
	{"surrogate pair", Generate, `{"text":"\ud83d\ude00!"}`, Info{Text: "😀!"}},
	{"lone high surrogate", Generate, `{"text":"\ud83dx"}`, Info{Text: "\uFFFDx"}},
	{"lone low surrogate", Generate, `{"text":"\ude00"}`, Info{Text: "\uFFFD"}},
	{"high surrogate then non-surrogate escape", Generate, `{"text":"\ud83d\u0041"}`, Info{Text: "\uFFFDA"}},
	{"two high surrogates then low", Generate, `{"text":"\ud83d\ud83d\ude00"}`, Info{Text: "\uFFFD😀"}},
	{"raw UTF-8 kept", Generate, `{"text":"héllo 世界 😀"}`, Info{Text: "héllo 世界 😀"}},
	{"invalid UTF-8 bytes replaced one by one", Generate, "{\"text\":\"a\xff\xfeb\xed\xa0\x80\"}", Info{Text: "a\uFFFD\uFFFDb\uFFFD\uFFFD\uFFFD"}},
	{"DEL and high bytes allowed raw", Generate, "{\"text\":\"\x7f\"}", Info{Text: "\x7f"}},
}

var completionsCases = []parseCase{
	{"prompt string", Completions, `{"model":"m","prompt":"Say hi","stream":true}`, Info{Text: "Say hi", Stream: true, Model: "m"}},
	{"prompt list of strings is a batch", Completions, `{"prompt":["a","b"]}`, Info{Text: "a b", BatchSize: 2}},
	{"prompt token ids are one prompt", Completions, `{"prompt":[1,2,3]}`, Info{Text: "1 2 3"}},
	{"prompt lists of token ids are a batch", Completions, `{"prompt":[[1,2],[3]]}`, Info{Text: "1 2 3", BatchSize: 2}},
	{"n above one", Completions, `{"prompt":"x","n":4}`, Info{Text: "x", BatchSize: 4}},
	{"prompt batch beats n", Completions, `{"prompt":["a","b"],"n":4}`, Info{Text: "a b", BatchSize: 2}},
	{"n of one", Completions, `{"prompt":"x","n":1}`, Info{Text: "x"}},
	{"n not an integer literal", Completions, `{"n":2.0}`, Info{}},
	{"n negative", Completions, `{"n":-3}`, Info{}},
	{"n too large", Completions, `{"n":2147483648}`, Info{}},
	{"n at the limit", Completions, `{"n":2147483647}`, Info{BatchSize: 2147483647}},
	{"text is not read", Completions, `{"text":"t"}`, Info{}},
}

var chatCases = []parseCase{
	{"all messages in order", ChatCompletions, `{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"}]}`, Info{Text: "Be brief. Hi Hello"}},
	{"content parts", ChatCompletions, `{"messages":[{"role":"user","content":[{"type":"text","text":"What is"},{"type":"image_url","image_url":{"url":"x"}},{"text":"this?","type":"text"}]}]}`, Info{Text: "What is this?"}},
	{"escaped part type", ChatCompletions, `{"messages":[{"content":[{"type":"te\u0078t","text":"ok"}]}]}`, Info{Text: "ok"}},
	{"part without text or with a wrong type", ChatCompletions, `{"messages":[{"content":[{"type":"text"},{"type":"text","text":5},{"type":"texts","text":"no"},{"type":null,"text":"no"}]}]}`, Info{}},
	{"null and missing content skipped", ChatCompletions, `{"messages":[{"role":"assistant","content":null,"tool_calls":[]},{"role":"user"},{"content":"x"}]}`, Info{Text: "x"}},
	{"duplicate content last wins", ChatCompletions, `{"messages":[{"content":"a","content":[{"type":"text","text":"b"}]},{"content":"c","content":null}]}`, Info{Text: "b"}},
	{"duplicate part keys last win", ChatCompletions, `{"messages":[{"content":[{"type":"image","text":"no","type":"text"},{"type":"text","text":"x","text":"y"}]}]}`, Info{Text: "no y"}},
	{"empty content kept as a piece", ChatCompletions, `{"messages":[{"content":"a"},{"content":""},{"content":"b"}]}`, Info{Text: "a  b"}},
	{"non-object messages skipped", ChatCompletions, `{"messages":["x",1,null,[{"content":"no"}],{"content":"y"}]}`, Info{Text: "y"}},
	{"messages not a list", ChatCompletions, `{"messages":{"content":"no"}}`, Info{}},
	{"nested messages ignored", ChatCompletions, `{"extra":{"messages":[{"content":"no"}]},"messages":[{"content":"yes"}]}`, Info{Text: "yes"}},
	{"n above one is a batch", ChatCompletions, `{"messages":[],"n":2,"stream":true}`, Info{Stream: true, BatchSize: 2}},
	{"prompt is not read", ChatCompletions, `{"prompt":"p"}`, Info{}},
	{"user is the session", ChatCompletions, `{"user":"u-1","messages":[{"content":"hi"}]}`, Info{Text: "hi", Session: "u-1"}},
	{"session_params id beats user", Generate, `{"user":"u","session_params":{"rid":"x","id":"s\u00e9"},"text":"t"}`, Info{Text: "t", Session: "sé"}},
	{"session_params without a string id falls back to user", Generate, `{"session_params":{"id":7},"user":"u"}`, Info{Session: "u"}},
	{"nested session_params ignored", Generate, `{"x":{"session_params":{"id":"no"},"user":"no"}}`, Info{}},
	{"user of a wrong type is no session", ChatCompletions, `{"user":{"id":"x"},"messages":[]}`, Info{}},
	{"session_params last id wins", Generate, `{"session_params":{"id":"a","id":"b"}}`, Info{Session: "b"}},
	{"unicode content", ChatCompletions, `{"messages":[{"content":"\u4f60\u597d"},{"content":"😀\n"}]}`, Info{Text: "你好 😀\n"}},
}

var newRouteCases = []parseCase{
	{"model and rid read", Generate, `{"model":"m\u0031","rid":"r-1","text":"t"}`, Info{Text: "t", Model: "m1", RID: "r-1"}},
	{"model of a wrong type is absent", Generate, `{"model":5,"rid":["a","b"]}`, Info{}},
	{"model on a load-only route", Other, `{"model":"m","prompt":"not read","stream":true}`, Info{Model: "m", Stream: true}},
	{"anthropic system string then messages", Messages, `{"model":"c","system":"Be brief.","messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":[{"type":"text","text":"Hello"}]}]}`, Info{Text: "Be brief. Hi Hello", Model: "c"}},
	{"anthropic system blocks", Messages, `{"system":[{"type":"text","text":"A"},{"type":"image"},{"text":"B","type":"text"}],"messages":[{"content":"x"}]}`, Info{Text: "A B x"}},
	{"anthropic without system", Messages, `{"messages":[{"content":"x"}],"stream":true}`, Info{Text: "x", Stream: true}},
	{"anthropic system only", Messages, `{"system":"s"}`, Info{Text: "s"}},
	{"responses input string", Responses, `{"model":"m","input":"Tell me"}`, Info{Text: "Tell me", Model: "m"}},
	{"responses continuing a stored one", Responses, `{"input":"more","previous_response_id":"resp_1"}`, Info{Text: "more", PreviousResponseID: "resp_1"}},
	{"responses input items", Responses, `{"input":[{"role":"user","content":[{"type":"input_text","text":"a"}]},{"type":"message","role":"assistant","content":[{"type":"output_text","text":"b"}]},{"role":"user","content":"c"}]}`, Info{Text: "a b c"}},
	{"embeddings input list", Embeddings, `{"input":["a","b"],"model":"e"}`, Info{Text: "a b", Model: "e"}},
	{"embeddings token ids", Embeddings, `{"input":[[1,2],[3]]}`, Info{Text: "1 2 3"}},
	{"chat input_text part", ChatCompletions, `{"messages":[{"content":[{"type":"input_text","text":"x"}]}]}`, Info{Text: "x"}},
}

func TestParse(t *testing.T) {
	for _, group := range [][]parseCase{generateCases, completionsCases, chatCases, newRouteCases} {
		for _, tc := range group {
			t.Run(tc.route.String()+"/"+tc.name, func(t *testing.T) {
				got, err := Parse(tc.route, []byte(tc.body), true)
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				// Follow is held to the reference here, and by TestFollow.
				ref, _ := refParse(tc.route, []byte(tc.body))
				if got.Follow != ref.Follow {
					t.Errorf("Follow = %d, reference %d", got.Follow, ref.Follow)
				}
				got.Follow, ref.Follow = FollowNone, FollowNone
				if got != tc.want {
					t.Errorf("Parse = %#v\nwant    %#v", got, tc.want)
				}
				if ref != tc.want {
					t.Errorf("reference = %#v (test or reference is wrong)", ref)
				}
				noText, err := Parse(tc.route, []byte(tc.body), false)
				want := tc.want
				want.Text = ""
				if err != nil || noText != want {
					t.Errorf("Parse without text = %+v, %v; want %+v", noText, err, want)
				}
			})
		}
	}
}

func TestParseRejects(t *testing.T) {
	malformed := []struct{ name, body string }{
		{"empty", ""},
		{"only whitespace", " \n\t"},
		{"truncated object", `{"text":"a"`},
		{"truncated string", `{"text":"a`},
		{"truncated escape", `{"text":"a\`},
		{"truncated unicode escape", `{"text":"\u12`},
		{"truncated key", `{"te`},
		{"truncated after colon", `{"text":`},
		{"truncated literal", `{"stream":tru`},
		{"truncated nested", `{"a":[{"b":1}`},
		{"trailing comma in object", `{"a":1,}`},
		{"trailing comma in array", `{"a":[1,]}`},
		{"leading comma", `{,"a":1}`},
		{"double comma", `{"a":[1,,2]}`},
		{"missing colon", `{"a" 1}`},
		{"missing comma", `{"a":1 "b":2}`},
		{"unquoted key", `{a:1}`},
		{"single quotes", `{'a':1}`},
		{"number key", `{1:1}`},
		{"trailing garbage", `{"a":1} x`},
		{"two objects", `{"a":1}{"b":2}`},
		{"trailing bracket", `{"a":1}}`},
		{"mismatched brackets", `{"a":[1}`},
		{"mismatched close", `{"a":{"b":1]}`},
		{"leading zero", `{"a":01}`},
		{"negative leading zero", `{"a":-01}`},
		{"plus sign", `{"a":+1}`},
		{"bare minus", `{"a":-}`},
		{"dot without digits", `{"a":1.}`},
		{"leading dot", `{"a":.5}`},
		{"exponent without digits", `{"a":1e}`},
		{"exponent sign without digits", `{"a":1e+}`},
		{"hex number", `{"a":0x10}`},
		{"NaN", `{"a":NaN}`},
		{"Infinity", `{"a":Infinity}`},
		{"capital literal", `{"a":True}`},
		{"misspelled literal", `{"a":nul}`},
		{"control char in string", "{\"text\":\"a\nb\"}"},
		{"tab in string", "{\"text\":\"a\tb\"}"},
		{"NUL in string", "{\"text\":\"a\x00b\"}"},
		{"control char in key", "{\"a\x01\":1}"},
		{"bad escape", `{"text":"\x41"}`},
		{"single-quote escape", `{"text":"\'"}`},
		{"bad unicode escape", `{"text":"\u12G4"}`},
		{"uppercase U escape", `{"text":"\U0041"}`},
		{"comment", `{"a":1 /* c */}`},
		{"byte order mark", "\xef\xbb\xbf{}"},
		{"form feed as whitespace", "{\f}"},
		{"vertical tab as whitespace", "{\v}"},
		{"NBSP as whitespace", "{\u00a0}"},
		{"NUL after object", "{}\x00"},
		{"bare word", `hello`},
		{"too deep", `{"a":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}`},
	}
	for _, tc := range malformed {
		t.Run(tc.name, func(t *testing.T) {
			if json.Valid([]byte(tc.body)) {
				t.Fatalf("test bug: encoding/json accepts %q", tc.body)
			}
			for _, route := range []Route{Generate, ChatCompletions, Completions} {
				_, err := Parse(route, []byte(tc.body), true)
				if !errors.Is(err, ErrMalformed) {
					t.Errorf("%v: err = %v, want ErrMalformed", route, err)
				}
			}
		})
	}
}

func TestParseNotObject(t *testing.T) {
	for _, body := range []string{`[]`, `[{"text":"a"}]`, `"text"`, `0`, `-1.5e3`, `true`, `false`, ` null `} {
		_, err := Parse(Generate, []byte(body), true)
		if !errors.Is(err, ErrNotObject) {
			t.Errorf("Parse(%q) err = %v, want ErrNotObject", body, err)
		}
	}
}

func TestParseDepthLimit(t *testing.T) {
	// encoding/json allows 10000 nested containers, the top object included.
	deepest := `{"a":` + strings.Repeat("[", maxDepth-1) + strings.Repeat("]", maxDepth-1) + `,"text":"ok"}`
	if !json.Valid([]byte(deepest)) {
		t.Fatal("test bug: encoding/json rejects the deepest allowed body")
	}
	got, err := Parse(Generate, []byte(deepest), true)
	if err != nil || got.Text != "ok" {
		t.Fatalf("Parse = %+v, %v", got, err)
	}
	tooDeep := `{"a":` + strings.Repeat(`{"b":`, maxDepth) + "1" + strings.Repeat("}", maxDepth+1)
	if json.Valid([]byte(tooDeep)) {
		t.Fatal("test bug: encoding/json accepts a body one level too deep")
	}
	if _, err := Parse(Generate, []byte(tooDeep), true); !errors.Is(err, ErrMalformed) {
		t.Fatalf("one level too deep: err = %v", err)
	}
}

func TestParseEveryPrefixRejected(t *testing.T) {
	body := `{"text":["a\u00e9\ud83d\ude00",{"x":[1,-2.5e-3,true,false,null]}],"messages":[{"content":[{"type":"text","text":"q"}]}],"n":2}`
	for i := range len(body) {
		if _, err := Parse(ChatCompletions, []byte(body[:i]), true); !errors.Is(err, ErrMalformed) {
			t.Fatalf("prefix %q: err = %v", body[:i], err)
		}
	}
}

func TestParseErrorMessages(t *testing.T) {
	tests := []struct{ body, want string }{
		{``, "request body is not valid JSON: empty body"},
		{`{"a":1`, "request body is not valid JSON: unexpected end of input"},
		{`{"a":1,}`, "request body is not valid JSON: invalid character '}' looking for beginning of object key string at offset 7"},
		{"{\"a\":\"\x01\"}", "request body is not valid JSON: invalid character 0x01 in string literal at offset 6"},
		{`{"a":"\q"}`, `request body is not valid JSON: invalid character 'q' in string escape code at offset 7`},
		{`{} {}`, "request body is not valid JSON: invalid character '{' after top-level value at offset 3"},
		{`[1]`, "request body is not a JSON object: the body is a JSON array"},
	}
	for _, tc := range tests {
		_, err := Parse(Generate, []byte(tc.body), true)
		if err == nil || err.Error() != tc.want {
			t.Errorf("Parse(%q) err = %v\nwant %s", tc.body, err, tc.want)
		}
	}
}

func TestParseCutsLongSessionKeys(t *testing.T) {
	long := strings.Repeat("k", 3*MaxSessionKey)
	got, err := Parse(ChatCompletions, []byte(`{"user":"`+long+`"}`), false)
	if err != nil || got.Session != long[:MaxSessionKey] {
		t.Errorf("Parse = %q, %v; want the first %d bytes", got.Session, err, MaxSessionKey)
	}
}
