package reqbody

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

var allRoutes = []Route{Generate, ChatCompletions, Completions, Responses, Messages, Embeddings, Other}

// seedBodies are the bodies of the table tests plus a few shapes the
// fuzzer would take long to find.
func seedBodies() []string {
	seeds := []string{
		`{"text":"a\ud83d\ude00\ud800\udc00\udbff\udfff\ud800"}`,
		`{"input_ids":[[1,2],[3,-4.5e+6]],"stream":true,"n":3}`,
		`{"messages":[{"role":"user","content":[{"type":"text","text":"x"},{"type":"text","text":"y"}]}],"n":2}`,
		`{"prompt":["a",["b",1]],"n":7,"return_logprob":true}`,
		`{"a":[[[[[{"b":{"c":[]}}]]]]],"text":"z"}`,
		"{\"text\":\"\xc3\x28\xe2\x82\"}",
		`{"bootstrap_room":1,"bootstrap_host":"h","x":{}}`,
		`{"te\u0078t":"k","messages":[{"c\u006fntent":"m"}]}`,
		`{"a":1}  `, `[]`, `"s"`, `{"a":01}`, `{"a":"\u00"}`, `{"a":[1,]}`,
	}
	for _, group := range [][]parseCase{generateCases, completionsCases, chatCases} {
		for _, tc := range group {
			seeds = append(seeds, tc.body)
		}
	}
	return seeds
}

// FuzzParse holds Parse to refParse (encoding/json) on arbitrary bytes: the
// same verdict on validity, and for valid objects the same Info.
func FuzzParse(f *testing.F) {
	for _, b := range seedBodies() {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, route := range allRoutes {
			got, err := Parse(route, body, true)
			want, wantErr := refParse(route, body)
			switch {
			case wantErr != nil && !errors.Is(err, wantErr):
				t.Fatalf("%v: Parse err = %v, want %v", route, err, wantErr)
			case wantErr == nil && err != nil:
				t.Fatalf("%v: Parse rejects a valid object: %v", route, err)
			case got != want:
				t.Fatalf("%v: Parse = %#v\nwant %#v", route, got, want)
			}
			if shared, _, serr := ParseEditShared(route, body, true); shared != got || (serr == nil) != (err == nil) {
				t.Fatalf("%v: ParseEditShared = %#v, %v; Parse = %#v, %v", route, shared, serr, got, err)
			}
			got, err = Parse(route, body, false)
			want.Text, want.Follow = "", FollowNone
			if (err == nil) != (wantErr == nil) || got != want {
				t.Fatalf("%v: Parse without text = %#v, %v; want %#v", route, got, err, want)
			}
		}
	})
}

// FuzzInjectBootstrap checks that InjectBootstrap rejects what is not a
// JSON object and otherwise yields the object plus the three fields.
func FuzzInjectBootstrap(f *testing.F) {
	for _, b := range seedBodies() {
		f.Add([]byte(b), "10.0.0.1", 8998, true, uint64(42), uint8(0))
	}
	f.Add([]byte(`{ "bootstrap_port" : 1 }`), "::1", -1, false, uint64(1)<<63, uint8(3))
	f.Add([]byte(` {"a":[],"bootstrap_host":"x","b":{} } `), "h\"\x00\xff", 0, true, uint64(0), uint8(1))
	f.Fuzz(func(t *testing.T, body []byte, host string, port int, hasPort bool, room uint64, n uint8) {
		var p *int
		if hasPort {
			p = &port
		}
		count, batch := int(n%4), n%4 != 0
		if !batch {
			count = 1
		}
		rooms := make([]uint64, count)
		for i := range rooms {
			rooms[i] = room + uint64(i)
		}
		out, err := InjectBootstrap(body, host, p, rooms, batch)
		isObject := json.Valid(body) && bytes.TrimSpace(body)[0] == '{'
		switch {
		case !isObject && err == nil:
			t.Fatalf("accepted a body that is not a JSON object: %q", out)
		case isObject && err != nil:
			t.Fatalf("rejected a valid object: %v", err)
		case isObject:
			if err := checkInjected(body, out, host, p, rooms, batch); err != nil {
				t.Fatal(err)
			}
			_, e, err := ParseEdit(Generate, body, false)
			if err != nil {
				t.Fatal(err)
			}
			if fast, err := e.Inject(&Boot{host, p, rooms, batch}, -1); err != nil || !bytes.Equal(fast, out) {
				t.Fatalf("Edit.Inject gave %q (%v), InjectBootstrap %q", fast, err, out)
			}
			withRank, _ := InjectRank(out, 5)
			if fast, err := e.Inject(&Boot{host, p, rooms, batch}, 5); err != nil || !bytes.Equal(fast, withRank) {
				t.Fatalf("Edit.Inject with a rank gave %q (%v), InjectBootstrap then InjectRank %q", fast, err, withRank)
			}
		}
	})
}

// FuzzParseLong is FuzzParse for strings longer than utf8Window: the
// fuzzed bytes land around the end of the first window of a long "text".
func FuzzParseLong(f *testing.F) {
	f.Add(uint8(0), []byte("\xff"))
	f.Add(uint8(3), []byte(`\ud83d\ude00 é`))
	f.Add(uint8(9), []byte(`\n\u0041\xe4\xb8`))
	f.Fuzz(func(t *testing.T, shift uint8, tail []byte) {
		pad := strings.Repeat("a", utf8Window-16+int(shift%32))
		body := []byte(`{"text":"` + pad + string(tail) + `"}`)
		got, err := Parse(Generate, body, true)
		want, wantErr := refParse(Generate, body)
		switch {
		case wantErr != nil && !errors.Is(err, wantErr):
			t.Fatalf("Parse err = %v, want %v", err, wantErr)
		case wantErr == nil && err != nil:
			t.Fatalf("Parse rejects a valid object: %v", err)
		case got != want:
			t.Fatalf("Parse = %q\nwant %q", got.Text[min(len(pad), len(got.Text)):], want.Text[min(len(pad), len(want.Text)):])
		}
	})
}
