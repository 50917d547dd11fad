package router

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/sgl-project/sglang-router-go/go/proxy"
)

// PD mode with return_logprob: the prefill worker computed the prompt's
// logprobs, the decode worker only its own, so the client's answer gets the
// prefill's meta_info.input_token_logprobs prepended to the decode's. Only
// answers are decoded here, never request bodies.

// inputLogprobs extracts meta_info.input_token_logprobs from a prefill
// answer: one entry per batch index (a JSON object gives one, an array one
// per element, an event stream the last event that carries them).
func inputLogprobs(body []byte) []json.RawMessage {
	body = bytes.TrimSpace(body)
	if bytes.HasPrefix(body, []byte("data:")) {
		var last []json.RawMessage
		for _, ev := range bytes.Split(body, []byte("\n")) {
			data, ok := bytes.CutPrefix(bytes.TrimSpace(ev), []byte("data:"))
			if lp := inputLogprobs(data); ok && lp[0] != nil {
				last = lp
			}
		}
		if last == nil {
			return []json.RawMessage{nil}
		}
		return last
	}
	var list []json.RawMessage
	if json.Unmarshal(body, &list) != nil {
		list = []json.RawMessage{body}
	}
	out := make([]json.RawMessage, len(list))
	for i, item := range list {
		var obj struct {
			Meta struct {
				LP json.RawMessage `json:"input_token_logprobs"`
			} `json:"meta_info"`
		}
		if json.Unmarshal(item, &obj) == nil {
			out[i] = obj.Meta.LP
		}
	}
	if len(out) == 0 {
		return []json.RawMessage{nil}
	}
	return out
}

// mergeOne prepends pre to obj's meta_info.input_token_logprobs. obj is
// returned unchanged when either side has none.
func mergeOne(obj []byte, pre json.RawMessage) []byte {
	if len(pre) == 0 {
		return obj
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(obj, &top) != nil {
		return obj
	}
	var meta map[string]json.RawMessage
	if json.Unmarshal(top["meta_info"], &meta) != nil {
		return obj
	}
	dec, ok := meta["input_token_logprobs"]
	if !ok {
		return obj
	}
	meta["input_token_logprobs"] = concatArrays(pre, dec)
	top["meta_info"], _ = json.Marshal(meta)
	out, err := json.Marshal(top)
	if err != nil {
		return obj
	}
	return out
}

// concatArrays joins two raw JSON arrays (null counts as empty).
func concatArrays(a, b json.RawMessage) json.RawMessage {
	inner := func(x json.RawMessage) []byte {
		x = bytes.TrimSpace(x)
		if len(x) < 2 || x[0] != '[' {
			return nil
		}
		return bytes.TrimSpace(x[1 : len(x)-1])
	}
	ia, ib := inner(a), inner(b)
	out := append([]byte{'['}, ia...)
	if len(ia) > 0 && len(ib) > 0 {
		out = append(out, ',')
	}
	return append(append(out, ib...), ']')
}

// pick returns the prefill logprobs for batch index i.
func pickLogprobs(pre []json.RawMessage, i int) json.RawMessage {
	if i >= 0 && i < len(pre) {
		return pre[i]
	}
	return nil
}

// maxMergedAnswer bounds a decode answer (non-streamed) or one line of a
// decode stream that is held in memory to merge logprobs into it.
const maxMergedAnswer = 64 << 20

var errAnswerTooLarge = fmt.Errorf("decode answer over %d bytes: too large to merge logprobs into", maxMergedAnswer)

// mergeBody reads a non-streamed decode answer (bounded) and returns it
// with merged logprobs.
func mergeBody(resp *http.Response, pre []json.RawMessage) ([]byte, error) {
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMergedAnswer+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxMergedAnswer {
		return nil, errAnswerTooLarge
	}
	var list []json.RawMessage
	if json.Unmarshal(body, &list) == nil {
		for i := range list {
			list[i] = mergeOne(list[i], pickLogprobs(pre, i))
		}
		body, _ = json.Marshal(list)
	} else {
		body = mergeOne(body, pickLogprobs(pre, 0))
	}
	return body, nil
}

// writeBody writes a decode answer's status and headers with body
// (proxy.ErrClientGone if the client is gone).
func writeBody(w http.ResponseWriter, resp *http.Response, body []byte) error {
	proxy.CopyHeaders(w.Header(), resp.Header)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(resp.StatusCode)
	if _, err := w.Write(body); err != nil {
		return proxy.ErrClientGone
	}
	return nil
}

// mergeStream copies a streamed decode answer line by line, merging the
// logprobs into every event that carries them, flushing at the end of each
// event. It returns proxy.ErrClientGone if the client is gone, or the
// decode's read error if its stream broke (a partial line is not sent).
func mergeStream(w http.ResponseWriter, resp *http.Response, pre []json.RawMessage) error {
	defer resp.Body.Close()
	proxy.CopyHeaders(w.Header(), resp.Header)
	w.WriteHeader(resp.StatusCode)
	rc := http.NewResponseController(w)
	rd := bufio.NewReaderSize(resp.Body, 64<<10)
	for {
		line, err := readLine(rd, maxMergedAnswer)
		if err != nil && err != io.EOF {
			return err
		}
		if data, ok := bytes.CutPrefix(line, []byte("data: ")); ok && len(bytes.TrimSpace(data)) > 0 && data[0] == '{' {
			idx := eventIndex(data)
			line = append(append([]byte("data: "), mergeOne(bytes.TrimSpace(data), pickLogprobs(pre, idx))...), '\n')
		}
		if len(line) > 0 {
			if _, werr := w.Write(line); werr != nil {
				return proxy.ErrClientGone
			}
		}
		if err == io.EOF || bytes.Equal(line, []byte("\n")) {
			if rc.Flush() != nil {
				return proxy.ErrClientGone
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}

// readLine reads up to and including the next newline (or to the end of
// the stream), at most limit bytes.
func readLine(rd *bufio.Reader, limit int) ([]byte, error) {
	var line []byte
	for {
		frag, err := rd.ReadSlice('\n')
		if len(line)+len(frag) > limit {
			return nil, errAnswerTooLarge
		}
		line = append(line, frag...)
		if err != bufio.ErrBufferFull {
			return line, err
		}
	}
}

// eventIndex is a streamed event's batch "index" (0 if absent).
func eventIndex(data []byte) int {
	var ev struct {
		Index int `json:"index"`
	}
	_ = json.Unmarshal(data, &ev)
	return ev.Index
}
