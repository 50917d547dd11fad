package reqbody

import "fmt"

// key names a top-level member the router reads or writes.
type key uint8

const (
	keyText key = iota
	keyPrompt
	keyInputIDs
	keyMessages
	keyStream
	keyReturnLogprob
	keyN
	keyBootstrapHost
	keyBootstrapPort
	keyBootstrapRoom
	keyUser
	keySessionParams
	keyDataParallelRank
	keyModel
	keyInput
	keySystem
	keyRID
	keyPrevResponse
	numKeys
	keyOther = numKeys
)

// lookupKey maps a member key to the key it names, or keyOther. Matching
// is exact (case-sensitive, after unescaping), as the workers do.
func lookupKey(raw []byte, esc bool) key {
	switch string(keyName(raw, esc)) {
	case "text":
		return keyText
	case "prompt":
		return keyPrompt
	case "input_ids":
		return keyInputIDs
	case "messages":
		return keyMessages
	case "stream":
		return keyStream
	case "return_logprob":
		return keyReturnLogprob
	case "n":
		return keyN
	case "bootstrap_host":
		return keyBootstrapHost
	case "bootstrap_port":
		return keyBootstrapPort
	case "bootstrap_room":
		return keyBootstrapRoom
	case "user":
		return keyUser
	case "session_params":
		return keySessionParams
	case "data_parallel_rank":
		return keyDataParallelRank
	case "model":
		return keyModel
	case "input":
		return keyInput
	case "system":
		return keySystem
	case "rid":
		return keyRID
	case "previous_response_id":
		return keyPrevResponse
	}
	return keyOther
}

// span is a value's bytes in the body, whitespace excluded.
type span struct{ start, end int }

// member is one top-level member: its key span starts at the opening quote.
type member struct {
	key        key
	start, end int // from the key's opening quote to the value's end
}

// keySet is a set of keys, one bit each.
type keySet uint32

func (s keySet) has(k key) bool { return s&(1<<k) != 0 }

// fields is the result of the validating pass over a body: the last value
// of each known top-level key (last wins, as in encoding/json).
type fields struct {
	body []byte
	val  [numKeys]span // end == 0: absent (a value never ends at offset 0)
	open int           // offset of the object's '{'
	last int           // end of the last member's value; 0 when empty
	// str holds the text of the keys in decoded: the values of the keys
	// scanTop was asked to decode that make text (see decodable).
	str     [numKeys]string
	decoded keySet
	// members lists every top-level member in order; filled only when
	// asked for (InjectBootstrap needs it, Parse does not).
	members []member
}

// scanOpts says what scanTop collects beyond the spans of known keys.
type scanOpts struct {
	// decode lists keys whose text is read during the scan: a long prompt
	// is then read once, instead of once to validate it and once more to
	// decode it. (A value that later loses to a duplicate key or to a field
	// of higher precedence is decoded for nothing; rare.)
	decode  keySet
	route   Route // the body's route: how a decoded list reads (decodeText)
	members bool  // fill fields.members
	// share lets a text that is one JSON string without escapes alias the
	// body instead of being copied (see ParseEditShared).
	share bool
}

// raw returns the value of k, or nil when absent.
func (f *fields) raw(k key) []byte {
	v := f.val[k]
	return f.body[v.start:v.end]
}

// kind returns the first byte of the value of k ('"', '[', '{', 't', ...),
// or 0 when absent.
func (f *fields) kind(k key) byte {
	if v := f.val[k]; v.end > v.start {
		return f.body[v.start]
	}
	return 0
}

func (f *fields) isTrue(k key) bool { return string(f.raw(k)) == "true" }

// scanTop validates body as one JSON object and records its top-level
// members as opts asks.
func scanTop(body []byte, opts scanOpts) (fields, error) {
	f := fields{body: body}
	s := scanner{b: body}
	s.skipWS()
	if s.pos >= len(body) {
		return f, fmt.Errorf("%w: empty body", ErrMalformed)
	}
	if body[s.pos] != '{' {
		return f, notObject(&s)
	}
	f.open = s.pos
	err := s.object(1, func(at int, raw []byte, esc bool) error {
		start, k := s.pos, lookupKey(raw, esc)
		if err := f.value(&s, k, opts); err != nil {
			return err
		}
		if k != keyOther {
			f.val[k] = span{start, s.pos}
		}
		f.last = s.pos
		if opts.members {
			f.members = append(f.members, member{k, at, s.pos})
		}
		return nil
	})
	if err != nil {
		return f, err
	}
	return f, s.end()
}

// value passes over the value of top-level key k, reading its text when k
// is in opts.decode.
func (f *fields) value(s *scanner, k key, opts scanOpts) error {
	if k == keyOther {
		return s.skipValue(1)
	}
	if !opts.decode.has(k) || !decodable(k, s.peek()) {
		f.decoded &^= 1 << k
		f.str[k] = ""
		return s.skipValue(1)
	}
	str, err := decodeText(s, opts.route, k, opts.share)
	f.str[k], f.decoded = str, f.decoded|1<<k
	return err
}

// end checks that only whitespace follows the value just read.
func (s *scanner) end() error {
	s.skipWS()
	if s.pos < len(s.b) {
		return s.syntaxError("after top-level value")
	}
	return nil
}

// notObject tells a valid non-object body (ErrNotObject) from garbage.
func notObject(s *scanner) error {
	if err := s.skipValue(0); err != nil {
		return err
	}
	if err := s.end(); err != nil {
		return err
	}
	return fmt.Errorf("%w: the body is a JSON %s", ErrNotObject, jsonKind(s.b))
}

func jsonKind(b []byte) string {
	s := scanner{b: b}
	s.skipWS()
	switch c := s.peek(); {
	case c == '[':
		return "array"
	case c == '"':
		return "string"
	case c == 't' || c == 'f':
		return "boolean"
	case c == 'n':
		return "null"
	}
	return "number"
}
