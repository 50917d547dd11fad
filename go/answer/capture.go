// Package answer reads the text of a worker's answer out of the response
// bytes the router relays, as they pass: OpenAI chat and text completions
// (whole bodies and event streams) and SGLang's /generate (whole, or
// streamed with cumulative or incremental text). The router records that
// text in cache_aware's prefix tree for the worker that wrote it, so the
// next turn of the conversation, which resends it, finds that worker.
//
// A Capture gives up (and yields no answer) at the first thing it does not
// understand: an error object, more than one choice, an event it cannot
// parse, an answer or line longer than its cap. Recording nothing costs a
// cache hit at most; recording a wrong text would mislead routing.
package answer

import (
	"bytes"
	"sync"

	"github.com/sgl-project/sglang-router-go/go/reqbody"
)

// Format is the shape of the answers of one route.
type Format uint8

const (
	None       Format = iota
	Chat              // /v1/chat/completions: choices[0].message.content, or .delta.content per event
	Completion        // /v1/completions: choices[0].text
	Generate          // SGLang /generate: "text"
)

// FormatOf is the answer format of a route (None for routes whose answers
// are not read).
func FormatOf(route reqbody.Route) Format {
	switch route {
	case reqbody.ChatCompletions:
		return Chat
	case reqbody.Completions:
		return Completion
	case reqbody.Generate:
		return Generate
	}
	return None
}

// lineSlack is what a line (one event, or a whole body) may hold beyond
// its answer's escaped form: ids, usage, finish reasons.
const lineSlack = 16 << 10

// escapeFactor bounds how much longer an answer is as a JSON string than
// decoded, for the answers worth reading: \uXXXX for a three-byte
// character is twice its size (ASCII-only JSON writers escape all CJK
// text so).
const escapeFactor = 2

// keepCap is the largest buffer a released Capture keeps for reuse: a rare
// long answer does not pin its buffers in the pool.
const keepCap = 256 << 10

// Capture extracts the answer from response bytes fed to Write. Not safe
// for concurrent use; get one with New, Release it when done.
type Capture struct {
	format Format
	stream bool
	max    int // answer bytes kept at most
	line   []byte
	text   []byte // the answer so far
	next   []byte // scratch for a cumulative /generate event
	events int    // text events seen (/generate streams)
	cumul  bool   // /generate events repeat the text so far (SGLang's default)
	failed bool
	done   bool // "[DONE]" seen
}

var pool = sync.Pool{New: func() any { return new(Capture) }}

// New returns a Capture for answers of format f (a stream when stream,
// else a whole body) that gives up on answers longer than max bytes.
func New(f Format, stream bool, max int) *Capture {
	c := pool.Get().(*Capture)
	c.format, c.stream, c.max = f, stream, max
	c.failed = f == None || max <= 0
	return c
}

// Release returns c to the pool; c and any answer it returned must not be
// used afterwards.
func (c *Capture) Release() {
	*c = Capture{line: keep(c.line), text: keep(c.text), next: keep(c.next)}
	pool.Put(c)
}

func keep(b []byte) []byte {
	if cap(b) > keepCap {
		return nil
	}
	return b[:0]
}

// lineMax is the longest line (or whole body) c reads.
func (c *Capture) lineMax() int { return escapeFactor*c.max + lineSlack }

// Write feeds the next bytes of the response. It never fails: a Capture
// that cannot read the answer just stops looking.
func (c *Capture) Write(p []byte) {
	if c.failed {
		return
	}
	if !c.stream {
		c.buffer(p)
		return
	}
	for len(p) > 0 && !c.failed {
		nl := bytes.IndexByte(p, '\n')
		if nl < 0 {
			c.buffer(p)
			return
		}
		if len(c.line) == 0 {
			if nl > c.lineMax() {
				c.failed = true
				return
			}
			c.event(p[:nl]) // the whole line is in p: no copy
		} else {
			c.buffer(p[:nl])
			if !c.failed {
				c.event(c.line)
				c.line = c.line[:0]
			}
		}
		p = p[nl+1:]
	}
}

// buffer keeps p as part of the current line (or body), within lineMax.
func (c *Capture) buffer(p []byte) {
	if len(c.line)+len(p) > c.lineMax() {
		c.failed = true
		return
	}
	c.line = append(c.line, p...)
}

// Answer ends the capture and returns the answer, or false when there is
// none to record (an empty answer included). The bytes belong to c.
func (c *Capture) Answer() ([]byte, bool) {
	if !c.failed && !c.stream {
		c.body(c.line)
	}
	if !c.failed && c.stream && len(c.line) > 0 {
		c.event(c.line) // a last line without its newline
		c.line = c.line[:0]
	}
	if c.failed || len(c.text) == 0 {
		return nil, false
	}
	return c.text, true
}

// event reads one line of an event stream.
func (c *Capture) event(line []byte) {
	line = bytes.TrimSuffix(line, []byte{'\r'})
	data, ok := bytes.CutPrefix(line, []byte("data:"))
	if !ok { // blank lines, comments (keep-alives), event:, id:, retry:
		return
	}
	data = bytes.TrimLeft(data, " ")
	if c.done {
		return
	}
	if string(data) == "[DONE]" {
		c.done = true
		return
	}
	c.read(data, true)
}

// body reads a whole (not streamed) answer.
func (c *Capture) body(b []byte) {
	c.read(b, false)
	if len(c.text) == 0 {
		c.failed = true // no text where it belongs: nothing to record
	}
}

// read reads one object: an event of a stream, or a whole answer.
func (c *Capture) read(b []byte, stream bool) {
	obj := object(b)
	if !obj.ok() {
		c.failed = true
		return
	}
	switch {
	case c.format == Generate && stream:
		c.generateEvent(b, obj)
	case c.format == Generate:
		text, bad := fields(b, obj, "text", "error")
		if bad.ok() {
			c.failed = true
			return
		}
		c.appendText(b, text)
	case c.format == Chat && stream:
		c.choice(b, obj, "delta", "content", true)
	case c.format == Chat:
		c.choice(b, obj, "message", "content", false)
	case c.format == Completion:
		c.choice(b, obj, "", "text", stream)
	}
}

// choice appends the string at choices[0].in.key of obj (choices[0].key
// when in is ""). The answer must have a single choice: in a stream an
// event with no choices is skipped (usage, say), one for another choice
// ends the capture.
// An "error" member ends the capture.
func (c *Capture) choice(b []byte, obj span, in, key string, stream bool) {
	choices, bad := fields(b, obj, "choices", "error")
	if bad.ok() {
		c.failed = true
		return
	}
	ch, n := first(b, choices)
	if n == 0 && stream {
		return
	}
	if in == "" {
		in = key // the text is a member of the choice itself
	}
	index, v := fields(b, ch, "index", in)
	if n != 1 || !isZero(b, index) {
		c.failed = true
		return
	}
	if in != key {
		v = field(b, v, key)
	}
	c.appendText(b, v)
}

// appendText appends the string v of b to the answer; a null or absent
// value adds nothing.
func (c *Capture) appendText(b []byte, v span) {
	if !v.ok() || b[v.start] != '"' {
		if v.ok() && string(b[v.start:v.end]) != "null" {
			c.failed = true
		}
		return
	}
	c.text = c.decode(c.text, b[v.start:v.end])
}

// decode appends the JSON string q to dst, failing c on bad input or past
// the cap.
func (c *Capture) decode(dst, q []byte) []byte {
	if len(q) > c.lineMax() {
		c.failed = true
		return dst
	}
	out, err := reqbody.AppendString(dst, q)
	if err != nil || len(out) > c.max {
		c.failed = true
		return dst
	}
	return out
}

// generateEvent reads a streamed /generate event. SGLang sends the whole
// text so far in every event by default, only the new text with
// --incremental-streaming-output: the second event tells which (it
// extends the first, or not), and from then on every event must fit
// that reading, else the capture gives up.
func (c *Capture) generateEvent(b []byte, obj span) {
	v, index := fields(b, obj, "text", "index")
	if !isZero(b, index) || field(b, obj, "error").ok() {
		c.failed = true
		return
	}
	if !v.ok() || b[v.start] != '"' {
		c.failed = v.ok() && string(b[v.start:v.end]) != "null"
		return
	}
	c.events++
	if c.events > 2 && !c.cumul {
		c.text = c.decode(c.text, b[v.start:v.end])
		return
	}
	c.next = c.decode(c.next[:0], b[v.start:v.end])
	if c.failed {
		return
	}
	switch extends := bytes.HasPrefix(c.next, c.text); {
	case c.events == 1, c.events == 2 && extends, c.cumul && extends:
		c.cumul = c.cumul || c.events == 2
		c.text, c.next = c.next, c.text
	case c.cumul:
		c.failed = true // a cumulative stream whose text went back
	default: // the second event is new text: an incremental stream
		if len(c.text)+len(c.next) > c.max {
			c.failed = true
			return
		}
		c.text = append(c.text, c.next...)
	}
}
