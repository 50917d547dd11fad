package workload

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sgl-project/sglang-router-go/go/sim"
)

// small configurations keep the tests fast; the defaults are tested apart.
func small(seed uint64) map[string]func() Workload {
	return map[string]func() Workload{
		NameSharedPrefix: SharedPrefix{Groups: 4, PromptsPerGroup: 3, SystemTokens: 40, QuestionTokens: 8, OutputTokens: 5, Seed: seed}.Generate,
		NameMultiTurn:    MultiTurn{Users: 5, Turns: 4, ActiveUsers: 2, SystemTokens: 6, UserTokens: 7, OutputTokens: 9, Seed: seed}.Generate,
		NameNoSharing:    NoSharing{Requests: 6, PromptTokens: 30, OutputTokens: 4, Seed: seed}.Generate,
	}
}

func TestSameSeedSameWorkloadOtherSeedOther(t *testing.T) {
	a, b, c := small(1), small(1), small(2)
	for name := range a {
		t.Run(name, func(t *testing.T) {
			wa, wb, wc := a[name](), b[name](), c[name]()
			if wa.Name != name || len(wa.Requests) != len(wb.Requests) {
				t.Fatalf("name %q, sizes %d and %d", wa.Name, len(wa.Requests), len(wb.Requests))
			}
			same := true
			for i := range wa.Requests {
				if !bytes.Equal(wa.Requests[i].Body, wb.Requests[i].Body) {
					t.Fatalf("request %d differs between two runs with one seed", i)
				}
				same = same && bytes.Equal(wa.Requests[i].Body, wc.Requests[i].Body)
			}
			if same {
				t.Error("another seed produced the same requests")
			}
		})
	}
}

func TestDefaultsMatchSGLangGeneratedSharedPrefix(t *testing.T) {
	w := SharedPrefix{}.Generate()
	if len(w.Requests) != 64*16 {
		t.Fatalf("%d requests, want 1024", len(w.Requests))
	}
	r := w.Requests[0]
	if r.PromptTokens != 2048+128 || r.OutputTokens != 256 || countWords(t, r) != 2176 {
		t.Errorf("prompt %d tokens (%d words), output %d", r.PromptTokens, countWords(t, r), r.OutputTokens)
	}
	if w.WorkingSetTokens != 64*2048+1024*(128+256) {
		t.Errorf("working set %d", w.WorkingSetTokens)
	}
}

func TestEveryRequestIsAStreamedJSONBodyOfItsRoute(t *testing.T) {
	for name, gen := range small(7) {
		for i, r := range gen().Requests {
			var body map[string]any
			if err := json.Unmarshal(r.Body, &body); err != nil {
				t.Fatalf("%s request %d: %v", name, i, err)
			}
			if body["stream"] != true {
				t.Errorf("%s request %d is not streamed", name, i)
			}
			_, chat := body["messages"]
			if chat != (r.Path == PathChat) || (r.Path != PathChat && r.Path != PathGenerate) {
				t.Errorf("%s request %d: path %s with body keys %v", name, i, r.Path, body)
			}
		}
	}
}

func TestPromptsOfAGroupShareExactlyTheSystemPrompt(t *testing.T) {
	w := small(3)[NameSharedPrefix]()
	texts := map[int][]string{}
	for _, r := range w.Requests {
		texts[r.Group] = append(texts[r.Group], text(t, r))
	}
	if len(texts) != 4 {
		t.Fatalf("%d groups, want 4", len(texts))
	}
	var systems []string
	for g, ts := range texts {
		if len(ts) != 3 {
			t.Fatalf("group %d has %d prompts, want 3", g, len(ts))
		}
		p := commonPrefix(ts...)
		if n := len(strings.Fields(p)); n != 40 && n != 41 { // 41: the questions may share part of a first word
			t.Errorf("group %d shares %d words, want the 40 of its system prompt", g, n)
		}
		systems = append(systems, strings.Join(strings.Fields(p)[:40], " "))
	}
	for i := range systems {
		for j := range i {
			if p := commonPrefix(systems[i], systems[j]); strings.Contains(p, " ") {
				t.Errorf("groups share a whole word: %q", p)
			}
		}
	}
	if orderedByGroup(w) {
		t.Error("requests are not interleaved across groups")
	}
}

func TestMultiTurnResendsTheGrowingConversation(t *testing.T) {
	w := small(5)[NameMultiTurn]()
	if len(w.Requests) != 5*4 {
		t.Fatalf("%d requests, want 20", len(w.Requests))
	}
	last := map[int]int{} // user -> index of its previous turn
	open := map[int]bool{}
	for i, r := range w.Requests {
		prev, seen := last[r.Group]
		if !seen && r.After != -1 || seen && r.After != prev {
			t.Fatalf("request %d (user %d): After = %d, want the previous turn", i, r.Group, r.After)
		}
		msgs := messagesOf(t, r)
		if seen {
			before := messagesOf(t, w.Requests[prev])
			if len(msgs) != len(before)+2 || !sameMessages(msgs[:len(before)], before) || msgs[len(before)].Role != "assistant" {
				t.Fatalf("request %d does not extend its previous turn with an answer and a question", i)
			}
		}
		if r.PromptTokens != chatTemplateTokens(msgs) {
			t.Errorf("request %d: PromptTokens %d, the template gives %d", i, r.PromptTokens, chatTemplateTokens(msgs))
		}
		last[r.Group] = i
		open[r.Group] = len(msgs) < 1+2*4-1
		if n := countTrue(open); n > 2 {
			t.Fatalf("%d conversations open at request %d, want at most 2", n, i)
		}
	}
}

func TestNoSharingPromptsShareNothing(t *testing.T) {
	w := small(9)[NameNoSharing]()
	for i, a := range w.Requests {
		for _, b := range w.Requests[:i] {
			if p := commonPrefix(text(t, a), text(t, b)); strings.Contains(p, " ") {
				t.Fatalf("two prompts share %q", p)
			}
		}
	}
}

// TestTokenCountsAreExactOnTheSimulator sends every request to a simulated
// engine with a huge cache and compares its counters.
func TestTokenCountsAreExactOnTheSimulator(t *testing.T) {
	for name, gen := range small(11) {
		t.Run(name, func(t *testing.T) {
			w := gen()
			srv, err := sim.NewServer(sim.Config{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range w.Requests {
				rec := httptest.NewRecorder()
				srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, r.Path, bytes.NewReader(r.Body)))
				if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "[DONE]") {
					t.Fatalf("request %d: %d %s", i, rec.Code, rec.Body)
				}
			}
			st := srv.Stats()
			if st.PromptTokens != int64(w.PromptTokens()) || st.GenerationTokens != int64(w.OutputTokens()) {
				t.Errorf("engine counted %d prompt and %d output tokens, workload says %d and %d",
					st.PromptTokens, st.GenerationTokens, w.PromptTokens(), w.OutputTokens())
			}
		})
	}
}

func text(t *testing.T, r Request) string {
	t.Helper()
	var body struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatal(err)
	}
	return body.Text
}

func countWords(t *testing.T, r Request) int { return len(strings.Fields(text(t, r))) }

func messagesOf(t *testing.T, r Request) []Message {
	t.Helper()
	var body struct {
		Messages []Message `json:"messages"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatal(err)
	}
	return body.Messages
}

func sameMessages(a, b []Message) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

// chatTemplateTokens counts "<|role|> words <|end|>" per message plus
// "<|assistant|>", as the simulator renders a chat.
func chatTemplateTokens(msgs []Message) int {
	n := 1
	for _, m := range msgs {
		n += 2 + len(strings.Fields(m.Content))
	}
	return n
}

func commonPrefix(ss ...string) string {
	p := ss[0]
	for _, s := range ss[1:] {
		i := 0
		for i < len(p) && i < len(s) && p[i] == s[i] {
			i++
		}
		p = p[:i]
	}
	return p
}

func orderedByGroup(w Workload) bool {
	for i := 1; i < len(w.Requests); i++ {
		if w.Requests[i].Group < w.Requests[i-1].Group {
			return false
		}
	}
	return true
}

func countTrue(m map[int]bool) int {
	n := 0
	for _, v := range m {
		if v {
			n++
		}
	}
	return n
}

// TestCodingChatTurnsResendTheEngineAnswers: each turn's body is built
// from the answers given so far, which the sender supplies.
func TestCodingChatTurnsResendTheEngineAnswers(t *testing.T) {
	w := CodingChat(MultiTurn{Users: 3, Turns: 3, ActiveUsers: 2, Seed: 4}).Generate()
	if w.Name != NameCodingChat || len(w.Requests) != 9 {
		t.Fatalf("%s with %d requests, want coding-chat with 9", w.Name, len(w.Requests))
	}
	history := map[int][]Message{}
	for i, r := range w.Requests {
		if r.Turn == nil || r.Turn.MaxTokens != 256 || len(strings.Fields(r.Turn.Question)) != 32 {
			t.Fatalf("request %d: turn %+v, want a 32-word question and 256-token answers", i, r.Turn)
		}
		body := r.Turn.Body(history[r.Turn.Conv])
		msgs := messagesOf(t, Request{Body: body})
		if !sameMessages(msgs[:len(msgs)-1], history[r.Turn.Conv]) || msgs[len(msgs)-1].Content != r.Turn.Question {
			t.Fatalf("request %d: body %s does not resend its history and ask its question", i, body)
		}
		answer := fmt.Sprintf("engine answer %d", i)
		history[r.Turn.Conv] = append(msgs, Message{Role: "assistant", Content: answer})
	}
}
