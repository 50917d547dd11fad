package reqbody

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// TestFollow builds each request's next turn the way a client does (the
// answer resent as the next assistant message, or appended to the prompt)
// and checks that AppendAnswer's text is a prefix of that turn's routing
// text, byte for byte.
func TestFollow(t *testing.T) {
	answers := []string{
		"plain answer",
		"line one\nline \"two\"\ttabbed \\ back",
		"unicode é 日本 \U0001F600 and \u2028",
		" leading and trailing spaces ",
	}
	for _, answer := range answers {
		quoted, _ := json.Marshal(answer)
		cases := []struct {
			name   string
			route  Route
			turn1  string
			turn2  string
			follow Follow
		}{
			{"chat", ChatCompletions,
				`{"messages":[{"role":"system","content":"sys"},{"role":"user","content":"q1"}]}`,
				`{"messages":[{"role":"system","content":"sys"},{"role":"user","content":"q1"},{"role":"assistant","content":` + string(quoted) + `},{"role":"user","content":"q2"}]}`,
				FollowMessage},
			{"chat parts", ChatCompletions,
				`{"messages":[{"role":"user","content":[{"type":"text","text":"q1"},{"type":"image_url","image_url":{}}]}]}`,
				`{"messages":[{"role":"user","content":[{"type":"text","text":"q1"},{"type":"image_url","image_url":{}}]},{"role":"assistant","content":[{"type":"text","text":` + string(quoted) + `}]},{"role":"user","content":"q2"}]}`,
				FollowMessage},
			{"completions", Completions,
				`{"prompt":"Once upon","max_tokens":5}`,
				`{"prompt":"Once upon` + string(quoted[1:len(quoted)-1]) + ` more","max_tokens":5}`,
				FollowText},
			{"generate", Generate,
				`{"text":"Once upon","stream":true}`,
				`{"text":"Once upon` + string(quoted[1:len(quoted)-1]) + `"}`,
				FollowText},
		}
		for _, tc := range cases {
			one, err := Parse(tc.route, []byte(tc.turn1), true)
			if err != nil || one.Follow != tc.follow {
				t.Fatalf("%s: Follow = %d, %v; want %d", tc.name, one.Follow, err, tc.follow)
			}
			ans, err := AppendString(nil, quoted)
			if err != nil || string(ans) != answer {
				t.Fatalf("%s: AppendString = %q, %v", tc.name, ans, err)
			}
			next := one.Follow.AppendAnswer(nil, one.Text, ans)
			two, err := Parse(tc.route, []byte(tc.turn2), true)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(two.Text, string(next)) || len(next) <= len(one.Text) {
				t.Errorf("%s %q: inserted %q is not a prefix of the next turn's %q", tc.name, answer, next, two.Text)
			}
		}
	}
}

func TestFollowNone(t *testing.T) {
	for _, tc := range []struct {
		route Route
		body  string
	}{
		{Generate, `{"text":["a","b"]}`},
		{Generate, `{"input_ids":[1,2,3]}`},
		{Generate, `{"text":["only"]}`},
		{Generate, `{"text":""}`},
		{Completions, `{"prompt":["a"]}`},
		{Completions, `{"prompt":"a","n":2}`},
		{ChatCompletions, `{"messages":[{"role":"user","content":"q"}],"n":3}`},
		{ChatCompletions, `{"messages":[{"role":"user","content":""}]}`},
		{ChatCompletions, `{"messages":[]}`},
		{Messages, `{"messages":[{"role":"user","content":"q"}]}`},
		{Responses, `{"input":"q"}`},
		{Embeddings, `{"input":"q"}`},
	} {
		info, err := Parse(tc.route, []byte(tc.body), true)
		if err != nil || info.Follow != FollowNone {
			t.Errorf("%v %s: Follow = %d, %v; want none", tc.route, tc.body, info.Follow, err)
		}
		if got := info.Follow.AppendAnswer(nil, info.Text, []byte("answer")); len(got) != 0 {
			t.Errorf("%v %s: AppendAnswer = %q, want nothing", tc.route, tc.body, got)
		}
	}
	if info, _ := Parse(ChatCompletions, []byte(`{"messages":[{"role":"user","content":"q"}]}`), false); info.Follow != FollowNone {
		t.Errorf("Follow without text = %d", info.Follow)
	}
}

func TestAppendStringRejects(t *testing.T) {
	for _, bad := range []string{``, `abc`, `"open`, `"a"x`, `"bad \q escape"`, `"ctl ` + "\x01" + `"`} {
		if out, err := AppendString([]byte("keep"), []byte(bad)); err == nil || !errors.Is(err, ErrMalformed) || string(out) != "keep" {
			t.Errorf("AppendString(%q) = %q, %v; want keep, ErrMalformed", bad, out, err)
		}
	}
	if out, err := AppendString(nil, []byte(`"\ud800x `+"\xff"+`"`)); err != nil || string(out) != "\uFFFDx \uFFFD" {
		t.Errorf("AppendString replaces like Parse: %q, %v", out, err)
	}
}
