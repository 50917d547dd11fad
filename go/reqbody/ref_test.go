package reqbody

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// refParse is Parse's specification written with encoding/json: slow and
// obviously right. The differential fuzz test and the table tests hold
// Parse to it. Its errors only carry the class (ErrMalformed/ErrNotObject).
func refParse(route Route, body []byte) (Info, error) {
	if !json.Valid(body) {
		return Info{}, ErrMalformed
	}
	if trimmed := bytes.TrimSpace(body); trimmed[0] != '{' {
		return Info{}, ErrNotObject
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		panic("json.Valid accepted what Unmarshal rejects: " + err.Error())
	}
	info := Info{
		Text:               refText(route, top),
		Stream:             string(top["stream"]) == "true",
		ReturnLogprob:      string(top["return_logprob"]) == "true",
		BatchSize:          refBatch(route, top),
		Model:              refStringOrEmpty(top["model"]),
		RID:                refStringOrEmpty(top["rid"]),
		PreviousResponseID: refStringOrEmpty(top["previous_response_id"]),
		Session:            refSession(top),
	}
	info.Follow = refFollow(route, top, info)
	return info, nil
}

// refFollow is Info.Follow by encoding/json: a non-empty text of a single
// request continues by a message (chat with a "messages" list) or by the
// answer itself (a string "prompt" of /v1/completions; the string "text",
// or without a usable "text" the string "prompt", of /generate).
func refFollow(route Route, top map[string]json.RawMessage, info Info) Follow {
	if info.Text == "" || info.BatchSize > 0 {
		return FollowNone
	}
	switch route {
	case ChatCompletions:
		if refKind(top["messages"]) == '[' {
			return FollowMessage
		}
	case Completions:
		if refKind(top["prompt"]) == '"' {
			return FollowText
		}
	case Generate:
		for _, k := range []string{"text", "prompt"} {
			if refUsable(top[k]) {
				if refKind(top[k]) == '"' {
					return FollowText
				}
				return FollowNone
			}
		}
	}
	return FollowNone
}

func refStringOrEmpty(raw json.RawMessage) string {
	if refKind(raw) != '"' {
		return ""
	}
	return refString(raw)
}

// refSession is Info.Session by encoding/json.
func refSession(top map[string]json.RawMessage) string {
	var params map[string]json.RawMessage
	var id, user string
	if json.Unmarshal(top["session_params"], &params) == nil && json.Unmarshal(params["id"], &id) == nil && id != "" {
		return id[:min(len(id), MaxSessionKey)]
	}
	if json.Unmarshal(top["user"], &user) == nil {
		return user[:min(len(user), MaxSessionKey)]
	}
	return ""
}

func refText(route Route, top map[string]json.RawMessage) string {
	switch route {
	case Generate:
		for _, k := range []string{"text", "prompt", "input_ids"} {
			if refUsable(top[k]) {
				return strings.Join(refPieces(top[k], true), " ")
			}
		}
	case Completions:
		if refUsable(top["prompt"]) {
			return strings.Join(refPieces(top["prompt"], true), " ")
		}
	case ChatCompletions:
		return strings.Join(refChat(top["messages"]), " ")
	case Messages:
		var sys []string
		switch refKind(top["system"]) {
		case '"':
			sys = []string{refString(top["system"])}
		case '[':
			sys = refParts(top["system"])
		}
		return strings.Join(append(sys, refChat(top["messages"])...), " ")
	case Responses:
		if refKind(top["input"]) == '"' {
			return refString(top["input"])
		}
		return strings.Join(refChat(top["input"]), " ")
	case Embeddings:
		if refUsable(top["input"]) {
			return strings.Join(refPieces(top["input"], true), " ")
		}
	}
	return ""
}

func refUsable(raw json.RawMessage) bool {
	return refKind(raw) == '"' || refKind(raw) == '['
}

func refKind(raw json.RawMessage) byte {
	if raw = bytes.TrimSpace(raw); len(raw) == 0 {
		return 0
	}
	return raw[0]
}

// refPieces returns the strings and numbers of a string or list value, and
// (when nested) those of its lists one level down.
func refPieces(raw json.RawMessage, nested bool) []string {
	switch c := refKind(raw); {
	case c == '"':
		return []string{refString(raw)}
	case c == '-' || c >= '0' && c <= '9':
		return []string{string(bytes.TrimSpace(raw))}
	case c == '[' && nested:
		var pieces []string
		for _, e := range refList(raw) {
			pieces = append(pieces, refPieces(e, false)...)
		}
		return pieces
	case c == '[':
		var pieces []string
		for _, e := range refList(raw) {
			if k := refKind(e); k != '[' && k != '{' {
				pieces = append(pieces, refPieces(e, false)...)
			}
		}
		return pieces
	}
	return nil
}

func refChat(raw json.RawMessage) []string {
	var pieces []string
	if refKind(raw) != '[' {
		return nil
	}
	for _, msg := range refList(raw) {
		content := refObject(msg)["content"]
		switch refKind(content) {
		case '"':
			pieces = append(pieces, refString(content))
		case '[':
			pieces = append(pieces, refParts(content)...)
		}
	}
	return pieces
}

// refParts returns the text of the text parts of a list of content parts.
func refParts(raw json.RawMessage) []string {
	var pieces []string
	for _, part := range refList(raw) {
		p := refObject(part)
		if refKind(p["type"]) == '"' && refKind(p["text"]) == '"' {
			switch refString(p["type"]) {
			case "text", "input_text", "output_text":
				pieces = append(pieces, refString(p["text"]))
			}
		}
	}
	return pieces
}

func refBatch(route Route, top map[string]json.RawMessage) int {
	switch route {
	case Generate:
		switch {
		case refKind(top["text"]) == '[':
			return len(refList(top["text"]))
		case refUsable(top["text"]) || refUsable(top["prompt"]):
			return 0
		case refKind(top["input_ids"]) == '[':
			if l := refList(top["input_ids"]); len(l) > 0 && refKind(l[0]) == '[' {
				return len(l)
			}
		}
	case Completions:
		if refKind(top["prompt"]) == '[' {
			if l := refList(top["prompt"]); len(l) > 0 && (refKind(l[0]) == '"' || refKind(l[0]) == '[') {
				return len(l)
			}
		}
		return refN(top["n"])
	case ChatCompletions:
		return refN(top["n"])
	}
	return 0
}

func refN(raw json.RawMessage) int {
	n, err := strconv.ParseInt(string(raw), 10, 32)
	if err != nil || n <= 1 {
		return 0
	}
	return int(n)
}

func refString(raw json.RawMessage) string {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		panic(err)
	}
	return s
}

func refList(raw json.RawMessage) []json.RawMessage {
	var l []json.RawMessage
	if err := json.Unmarshal(raw, &l); err != nil {
		panic(err)
	}
	return l
}

// refObject returns the members of an object value, or nil for another kind.
func refObject(raw json.RawMessage) map[string]json.RawMessage {
	if refKind(raw) != '{' {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		panic(err)
	}
	return m
}
