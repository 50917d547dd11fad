package reqbody

// MaxSessionKey bounds the session key kept from a body: a key only has to
// tell sessions apart, and a client must not make the router hold a large
// one per request.
const MaxSessionKey = 256

// sessionKey returns the body's session key (see Info.Session). The values
// were validated by scanTop, so decoding them cannot fail on well-formed
// input; a failure would only mean no key.
func sessionKey(f *fields) string {
	if f.kind(keySessionParams) == '{' {
		if id := sessionParamsID(f); id != "" {
			return id
		}
	}
	if f.kind(keyUser) == '"' {
		return stringAt(f.body, f.val[keyUser].start)
	}
	return ""
}

// sessionParamsID returns the "id" string of the session_params object, or
// "" (the last "id" wins, as in encoding/json).
func sessionParamsID(f *fields) string {
	s := scanner{b: f.body, pos: f.val[keySessionParams].start}
	id := ""
	err := s.object(2, func(_ int, raw []byte, esc bool) error {
		if string(keyName(raw, esc)) != "id" || s.peek() != '"' {
			return s.skipValue(2)
		}
		id = stringAt(s.b, s.pos)
		_, err := s.skipString()
		return err
	})
	if err != nil {
		return ""
	}
	return id
}

// stringAt decodes the JSON string whose opening quote is at b[at], cut to
// MaxSessionKey bytes; "" when it is not a valid string.
func stringAt(b []byte, at int) string {
	s := scanner{b: b, pos: at}
	buf, err := s.appendString(nil)
	if err != nil {
		return ""
	}
	return string(buf[:min(len(buf), MaxSessionKey)])
}
