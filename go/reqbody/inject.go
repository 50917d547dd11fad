package reqbody

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// The members the router sets in a body it forwards. An edit first cuts
// the body's own top-level members of the keys it sets (nested ones are
// left alone), then splices the new members in after the last member (or
// after '{' of an empty object). Every other byte of the body is copied as
// is, never re-encoded: one edit path for every field the router adds.
const (
	bootstrapKeys keySet = 1<<keyBootstrapHost | 1<<keyBootstrapPort | 1<<keyBootstrapRoom
	rankKeys      keySet = 1 << keyDataParallelRank
)

// InjectBootstrap returns a new body: the JSON object body with the PD
// bootstrap fields set at its top level. Existing top-level
// "bootstrap_host", "bootstrap_port" and "bootstrap_room" members are
// removed first.
//
// port nil is written as null. For a single request (batch false) rooms
// must hold exactly one room and each field is a scalar; for a batch each
// field is an array of len(rooms) entries: the same host and port, one room
// each. body is validated as strictly as by Parse.
func InjectBootstrap(body []byte, host string, port *int, rooms []uint64, batch bool) ([]byte, error) {
	if err := checkRooms(rooms, batch); err != nil {
		return nil, err
	}
	return edit(body, bootstrapKeys, bootstrapLen(host, rooms), func(b []byte) []byte {
		return appendBootstrap(b, host, port, rooms, batch)
	})
}

// InjectRank returns a new body: the JSON object body with
// "data_parallel_rank": rank at its top level (an existing top-level
// member of that name is removed first). SGLang's data-parallel controller
// sends a request that names a rank to that rank instead of choosing one
// itself. body is validated as strictly as by Parse.
func InjectRank(body []byte, rank int) ([]byte, error) {
	if rank < 0 {
		return nil, fmt.Errorf("reqbody: data_parallel_rank %d is negative", rank)
	}
	return edit(body, rankKeys, 32, func(b []byte) []byte { return appendRank(b, rank) })
}

// edit validates body, then writes it with the members of cut removed and
// add's members spliced in; size is about the length add appends.
func edit(body []byte, cut keySet, size int, add func([]byte) []byte) ([]byte, error) {
	f, err := scanTop(body, scanOpts{})
	if err != nil {
		return nil, err
	}
	if f.hasAny(cut) { // rare: scan again for the member list to cut
		f, _ = scanTop(body, scanOpts{members: true})
	}
	return f.splice(cut, size, add), nil
}

// Boot is the PD bootstrap fields of one request (see InjectBootstrap).
type Boot struct {
	Host  string
	Port  *int // nil is written as null
	Rooms []uint64
	Batch bool
}

// Edit sets the fields the router adds (bootstrap fields, the rank) in the
// body ParseEdit validated, at the place ParseEdit found, without
// validating it again: the request path parses every body anyway, and a
// 400 KB body costs ~0.3-0.5 ms to scan. The zero Edit has no body.
type Edit struct {
	body       []byte
	open, last int    // as in fields
	has        keySet // the router's keys the body already has (cut by a slower path)
}

// Body is the body the Edit was made for.
func (e Edit) Body() []byte { return e.body }

// Inject returns the body with bs's bootstrap fields (when bs is not nil)
// and "data_parallel_rank": rank (when rank >= 0) set at its top level, as
// InjectBootstrap and InjectRank would; with neither, the body itself. A
// body that already has members of those names takes the scanning path
// (they are cut).
func (e Edit) Inject(bs *Boot, rank int) ([]byte, error) {
	var cut keySet
	size := 0
	if bs != nil {
		if err := checkRooms(bs.Rooms, bs.Batch); err != nil {
			return nil, err
		}
		cut, size = cut|bootstrapKeys, bootstrapLen(bs.Host, bs.Rooms)
	}
	if rank >= 0 {
		cut, size = cut|rankKeys, size+32
	}
	if cut == 0 {
		return e.body, nil
	}
	add := func(out []byte) []byte {
		if bs != nil {
			out = appendBootstrap(out, bs.Host, bs.Port, bs.Rooms, bs.Batch)
			if rank >= 0 {
				out = append(out, ',')
			}
		}
		if rank >= 0 {
			out = appendRank(out, rank)
		}
		return out
	}
	if e.has&cut != 0 {
		return edit(e.body, cut, size, add)
	}
	f := fields{body: e.body, open: e.open, last: e.last}
	return f.splice(cut, size, add), nil
}

func checkRooms(rooms []uint64, batch bool) error {
	if len(rooms) == 0 || (!batch && len(rooms) != 1) {
		return errors.New("reqbody: bootstrap needs one room per request (one unless batched)")
	}
	return nil
}

// splice writes the body with add's members spliced in, after cutting the
// members of cut when f lists the members (f.members nil: there are none).
func (f *fields) splice(cut keySet, size int, add func([]byte) []byte) []byte {
	out := make([]byte, 0, len(f.body)+size)
	var rest int // where body resumes after the new members
	if f.members == nil {
		out, rest = f.head(out)
	} else {
		out, rest = f.headWithout(out, cut)
	}
	out = add(out)
	return append(out, f.body[rest:]...)
}

// present is the set of keys of s the body has at its top level.
func (f *fields) present(s keySet) keySet {
	var out keySet
	for k := range numKeys {
		if s.has(k) && f.kind(k) != 0 {
			out |= 1 << k
		}
	}
	return out
}

// hasAny reports whether the body has a top-level member of a key in s.
func (f *fields) hasAny(s keySet) bool { return f.present(s) != 0 }

// bootstrapLen is about the length of the bootstrap fields in JSON.
func bootstrapLen(host string, rooms []uint64) int {
	return 64 + len(rooms)*(len(host)+32)
}

// head appends body up to where the fields go: after the last member and a
// comma, or right after '{' when the object is empty.
func (f *fields) head(out []byte) (_ []byte, rest int) {
	if f.last == 0 {
		return append(out, f.body[:f.open+1]...), f.open + 1
	}
	return append(append(out, f.body[:f.last]...), ','), f.last
}

// headWithout is head for a body with members of cut, which it leaves
// out. Each kept member but the first brings the separator (comma and
// whitespace) that preceded it in body.
func (f *fields) headWithout(out []byte, cut keySet) (_ []byte, rest int) {
	body, ms := f.body, f.members
	out = append(out, body[:ms[0].start]...)
	kept := 0
	for i, m := range ms {
		if m.key != keyOther && cut.has(m.key) {
			continue
		}
		if kept > 0 {
			out = append(out, body[ms[i-1].end:m.start]...)
		}
		out = append(out, body[m.start:m.end]...)
		kept++
	}
	if kept > 0 {
		out = append(out, ',')
	}
	return out, ms[len(ms)-1].end
}

// appendRank appends the data_parallel_rank member.
func appendRank(b []byte, rank int) []byte {
	return strconv.AppendInt(append(b, `"data_parallel_rank":`...), int64(rank), 10)
}

// appendBootstrap appends the three members, comma separated.
func appendBootstrap(b []byte, host string, port *int, rooms []uint64, batch bool) []byte {
	b = append(b, `"bootstrap_host":`...)
	b = appendEach(b, batch, len(rooms), func(b []byte, _ int) []byte {
		return appendJSONString(b, host)
	})
	b = append(b, `,"bootstrap_port":`...)
	b = appendEach(b, batch, len(rooms), func(b []byte, _ int) []byte {
		if port == nil {
			return append(b, "null"...)
		}
		return strconv.AppendInt(b, int64(*port), 10)
	})
	b = append(b, `,"bootstrap_room":`...)
	return appendEach(b, batch, len(rooms), func(b []byte, i int) []byte {
		return strconv.AppendUint(b, rooms[i], 10)
	})
}

// appendEach appends one(0), or when batch is set an array of one(i) for
// i < n.
func appendEach(b []byte, batch bool, n int, one func(b []byte, i int) []byte) []byte {
	if !batch {
		return one(b, 0)
	}
	b = append(b, '[')
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = one(b, i)
	}
	return append(b, ']')
}

// appendJSONString appends s as a JSON string the way encoding/json writes
// it (without HTML escaping): quotes, backslashes and control characters
// escaped, each invalid UTF-8 byte as \ufffd, U+2028 and U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}
