package reqbody

import "math"

// batchSize computes Info.BatchSize (see there) from the spans of f.
func batchSize(route Route, f *fields) int {
	switch route {
	case Generate:
		switch {
		case f.kind(keyText) == '[':
			n, _ := f.listShape(keyText)
			return n
		case usable(f.kind(keyText)) || usable(f.kind(keyPrompt)):
			return 0
		case f.kind(keyInputIDs) == '[':
			if n, first := f.listShape(keyInputIDs); first == '[' {
				return n
			}
		}
	case Completions:
		if f.kind(keyPrompt) == '[' {
			if n, first := f.listShape(keyPrompt); first == '"' || first == '[' {
				return n
			}
		}
		return f.n()
	case ChatCompletions:
		return f.n()
	}
	return 0
}

// listShape returns the length of the list value of k and the kind of its
// first element (0 when empty).
func (f *fields) listShape(k key) (n int, first byte) {
	v := f.val[k]
	s := scanner{b: f.body[:v.end], pos: v.start}
	_ = s.array(depthList, func() error { // validated already
		if n == 0 {
			first = s.peek()
		}
		n++
		return s.skipValue(depthList)
	})
	return n, first
}

// n returns "n" when it is an integer literal in (1, MaxInt32], else 0.
func (f *fields) n() int {
	raw := f.raw(keyN)
	if len(raw) == 0 || len(raw) > 10 {
		return 0
	}
	v := 0
	for _, c := range raw {
		if !isDigit(c) {
			return 0
		}
		v = v*10 + int(c-'0')
	}
	if v <= 1 || v > math.MaxInt32 {
		return 0
	}
	return v
}
