package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"sync"

	"github.com/sgl-project/sglang-router-go/go/workload"
)

// conversations holds what each conversation of a replay said so far, for
// workloads whose turns resend the engine's own answers (workload.Turn).
// Safe for concurrent use; the turns of one conversation run one at a
// time (each waits for the previous: workload.Request.After).
type conversations struct {
	mu   sync.Mutex // guards msgs
	msgs map[int][]workload.Message
}

func newConversations() *conversations {
	return &conversations{msgs: map[int][]workload.Message{}}
}

// body is the request to send for r: built from the conversation so far
// when r is a Turn, else r's own body.
func (cs *conversations) body(r workload.Request) []byte {
	if r.Turn == nil {
		return r.Body
	}
	cs.mu.Lock()
	history := cs.msgs[r.Turn.Conv]
	cs.mu.Unlock()
	return r.Turn.Body(history)
}

// answered records the turn's question and the engine's answer.
func (cs *conversations) answered(t *workload.Turn, answer string) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.msgs[t.Conv] = append(cs.msgs[t.Conv],
		workload.Message{Role: "user", Content: t.Question}, workload.Message{Role: "assistant", Content: answer})
}

// chunkText is the answer text a streamed chat chunk carries (the
// content of its first choice's delta), or "".
func chunkText(data []byte) string {
	var chunk struct {
		Choices []struct {
			Delta struct {
				Content string `json:"content"`
			} `json:"delta"`
		} `json:"choices"`
	}
	if json.Unmarshal(data, &chunk) != nil || len(chunk.Choices) == 0 {
		return ""
	}
	return chunk.Choices[0].Delta.Content
}

// streamAnswer joins the answer text of a whole SSE chat stream.
func streamAnswer(stream []byte) string {
	var b bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(stream))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		if data, ok := bytes.CutPrefix(sc.Bytes(), []byte("data:")); ok {
			b.WriteString(chunkText(bytes.TrimSpace(data)))
		}
	}
	return b.String()
}
