package reqbody

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"testing"
)

func intPtr(v int) *int { return &v }

func TestInjectBootstrap(t *testing.T) {
	const single = `"bootstrap_host":"10.0.0.1","bootstrap_port":8998,"bootstrap_room":42`
	tests := []struct {
		name  string
		body  string
		host  string
		port  *int
		rooms []uint64
		batch bool
		want  string
	}{
		{"appended after the last member", `{"text":"hi","stream":true}`, "10.0.0.1", intPtr(8998), []uint64{42}, false,
			`{"text":"hi","stream":true,` + single + `}`},
		{"empty object", `{}`, "10.0.0.1", intPtr(8998), []uint64{42}, false, `{` + single + `}`},
		{"empty object with whitespace", " { \n } \n", "10.0.0.1", intPtr(8998), []uint64{42}, false, " {" + single + " \n } \n"},
		{"whitespace kept", "{ \"a\" : 1 \n}\n", "10.0.0.1", intPtr(8998), []uint64{42}, false, "{ \"a\" : 1," + single + " \n}\n"},
		{"null port", `{"a":1}`, "h", nil, []uint64{0}, false, `{"a":1,"bootstrap_host":"h","bootstrap_port":null,"bootstrap_room":0}`},
		{"batch arrays", `{"text":["a","b"]}`, "h", intPtr(1), []uint64{7, 18446744073709551615}, true,
			`{"text":["a","b"],"bootstrap_host":["h","h"],"bootstrap_port":[1,1],"bootstrap_room":[7,18446744073709551615]}`},
		{"batch of one", `{"text":["a"]}`, "h", nil, []uint64{9}, true,
			`{"text":["a"],"bootstrap_host":["h"],"bootstrap_port":[null],"bootstrap_room":[9]}`},
		{"IPv6 host", `{}`, "::1", intPtr(1), []uint64{2}, false, `{"bootstrap_host":"::1","bootstrap_port":1,"bootstrap_room":2}`},
		{"host escaped", `{}`, "a\"b\\c\n\x01\u2028é\xff", intPtr(1), []uint64{2}, false,
			`{"bootstrap_host":"a\"b\\c\n\u0001\u2028é\ufffd","bootstrap_port":1,"bootstrap_room":2}`},
		{"existing fields replaced", `{"bootstrap_room":1,"text":"x","bootstrap_host":"old" , "n":2,"bootstrap_port":5}`, "h", intPtr(1), []uint64{2}, false,
			`{"text":"x" , "n":2,"bootstrap_host":"h","bootstrap_port":1,"bootstrap_room":2}`},
		{"duplicates all removed", `{"bootstrap_room":1,"bootstrap_room":2,"a":0}`, "h", nil, []uint64{3}, false,
			`{"a":0,"bootstrap_host":"h","bootstrap_port":null,"bootstrap_room":3}`},
		{"only existing fields", `{ "bootstrap_port":5 , "bootstrap_room":1 }`, "h", nil, []uint64{3}, false,
			`{ "bootstrap_host":"h","bootstrap_port":null,"bootstrap_room":3 }`},
		{"escaped existing key removed", `{"bootstrap_r\u006fom":1,"a":0}`, "h", nil, []uint64{3}, false,
			`{"a":0,"bootstrap_host":"h","bootstrap_port":null,"bootstrap_room":3}`},
		{"nested fields untouched", `{"x":{"bootstrap_room":1}}`, "h", nil, []uint64{3}, false,
			`{"x":{"bootstrap_room":1},"bootstrap_host":"h","bootstrap_port":null,"bootstrap_room":3}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := InjectBootstrap([]byte(tc.body), tc.host, tc.port, tc.rooms, tc.batch)
			if err != nil {
				t.Fatalf("InjectBootstrap: %v", err)
			}
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if err := checkInjected([]byte(tc.body), got, tc.host, tc.port, tc.rooms, tc.batch); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestInjectBootstrapErrors(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		rooms []uint64
		batch bool
		want  error
	}{
		{"malformed body", `{"a":}`, []uint64{1}, false, ErrMalformed},
		{"trailing garbage", `{}x`, []uint64{1}, false, ErrMalformed},
		{"array body", `[{}]`, []uint64{1}, false, ErrNotObject},
		{"no room", `{}`, nil, false, nil},
		{"no room in a batch", `{}`, nil, true, nil},
		{"two rooms, no batch", `{}`, []uint64{1, 2}, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := InjectBootstrap([]byte(tc.body), "h", nil, tc.rooms, tc.batch)
			if err == nil || out != nil {
				t.Fatalf("InjectBootstrap = %q, %v; want an error", out, err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// checkInjected verifies out against body: valid JSON whose object equals
// body's plus the three fields, each of them exactly once at the top level,
// and, when body had none of them, body's bytes intact around the insertion.
func checkInjected(body, out []byte, host string, port *int, rooms []uint64, batch bool) error {
	if !json.Valid(out) {
		return errors.New("output is not valid JSON: " + string(out))
	}
	want, err := decodeObject(body)
	if err != nil {
		return err
	}
	hadFields := false
	for _, k := range []string{"bootstrap_host", "bootstrap_port", "bootstrap_room"} {
		_, ok := want[k]
		hadFields = hadFields || ok
	}
	hostJSON, _ := json.Marshal(host)
	var wantHost any
	_ = json.Unmarshal(hostJSON, &wantHost)
	var wantPort any
	if port != nil {
		wantPort = json.Number(strconv.Itoa(*port))
	}
	hosts, ports, rms := []any{}, []any{}, []any{}
	for _, r := range rooms {
		hosts, ports, rms = append(hosts, wantHost), append(ports, wantPort), append(rms, json.Number(strconv.FormatUint(r, 10)))
	}
	if batch {
		want["bootstrap_host"], want["bootstrap_port"], want["bootstrap_room"] = hosts, ports, rms
	} else {
		want["bootstrap_host"], want["bootstrap_port"], want["bootstrap_room"] = hosts[0], ports[0], rms[0]
	}
	got, err := decodeObject(out)
	if err != nil {
		return err
	}
	if !reflect.DeepEqual(got, want) {
		return errors.New("decoded output differs from input plus fields: " + string(out))
	}
	if err := checkTopKeysOnce(out); err != nil {
		return err
	}
	if !hadFields {
		k := 0
		for k < len(body) && body[k] == out[k] {
			k++
		}
		if !bytes.HasSuffix(out, body[k:]) {
			return errors.New("input bytes not preserved around the insertion: " + string(out))
		}
	}
	return nil
}

func decodeObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// checkTopKeysOnce checks that each bootstrap key appears once at the top
// level of the object out.
func checkTopKeysOnce(out []byte) error {
	dec := json.NewDecoder(bytes.NewReader(out))
	if _, err := dec.Token(); err != nil { // '{'
		return err
	}
	counts := map[string]int{}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return err
		}
		counts[key.(string)]++
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return err
		}
	}
	for _, k := range []string{"bootstrap_host", "bootstrap_port", "bootstrap_room"} {
		if counts[k] != 1 {
			return errors.New(k + " does not appear exactly once at the top level: " + string(out))
		}
	}
	return nil
}
