package answer

import "bytes"

// A minimal JSON walker over one event or body: it finds the few values
// an answer is read from, by index, without allocating. It does not
// validate what it skips (the worker's JSON is not the router's to judge,
// and a string it extracts is validated as it is decoded); on any
// surprise it reports not found, and it never reads past the input.

// span is a value's bytes b[start:end]; end == 0 means none.
type span struct{ start, end int }

func (s span) ok() bool { return s.end > s.start }

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the string whose opening quote
// is at b[i], or -1 if it does not end.
func skipString(b []byte, i int) int {
	for i++; i < len(b); {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return -1
		}
		end := i + q
		bs := 0 // backslashes just before the quote: an odd count escapes it
		for k := end - 1; k >= i && b[k] == '\\'; k-- {
			bs++
		}
		if bs%2 == 0 {
			return end + 1
		}
		i = end + 1
	}
	return -1
}

// skipValue returns the index just past the value starting at b[i], or -1
// if it does not end within b.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				j := skipString(b, i)
				if j < 0 {
					return -1
				}
				i = j - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	}
	for j := i; j < len(b); j++ {
		switch b[j] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			if j == i {
				return -1
			}
			return j
		}
	}
	return len(b)
}

// field returns the value of key in the object v (a span of b); a key
// that repeats gives its last value, as encoding/json does. Keys are
// compared as written (an escaped key does not match).
func field(b []byte, v span, key string) span {
	s, _ := fields(b, v, key, "")
	return s
}

// fields is field for two keys in one pass over v ("" matches no key).
func fields(b []byte, v span, key, key2 string) (found, found2 span) {
	if !v.ok() || b[v.start] != '{' {
		return span{}, span{}
	}
	i := skipWS(b, v.start+1)
	for i < v.end && b[i] == '"' {
		k := skipString(b, i)
		if k < 0 {
			return span{}, span{}
		}
		name := b[i+1 : k-1]
		i = skipWS(b, k)
		if i >= v.end || b[i] != ':' {
			return span{}, span{}
		}
		i = skipWS(b, i+1)
		end := skipValue(b, i)
		if end < 0 || end > v.end {
			return span{}, span{}
		}
		switch string(name) {
		case key:
			found = span{i, end}
		case key2:
			found2 = span{i, end}
		}
		i = skipWS(b, end)
		if i < v.end && b[i] == ',' {
			i = skipWS(b, i+1)
		}
	}
	return found, found2
}

// first returns the first element of the list v and the number of its
// elements, counted up to 2.
func first(b []byte, v span) (span, int) {
	if !v.ok() || b[v.start] != '[' {
		return span{}, 0
	}
	i := skipWS(b, v.start+1)
	if i >= v.end || b[i] == ']' {
		return span{}, 0
	}
	end := skipValue(b, i)
	if end < 0 || end > v.end {
		return span{}, 0
	}
	n := 1
	if j := skipWS(b, end); j < v.end && b[j] == ',' {
		n = 2
	}
	return span{i, end}, n
}

// object returns the object b holds (whitespace around it allowed). It
// checks only the braces at both ends: field reads what lies between, and
// finds nothing where it is malformed.
func object(b []byte) span {
	i, end := skipWS(b, 0), len(b)
	for end > i && (b[end-1] == ' ' || b[end-1] == '\t' || b[end-1] == '\n' || b[end-1] == '\r') {
		end--
	}
	if end-i < 2 || b[i] != '{' || b[end-1] != '}' {
		return span{}
	}
	return span{i, end}
}

// isZero reports whether v is absent or the number 0 (a choice's or a
// streamed output's "index").
func isZero(b []byte, v span) bool {
	return !v.ok() || string(b[v.start:v.end]) == "0"
}
