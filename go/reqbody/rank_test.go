package reqbody

import (
	"errors"
	"testing"
)

func TestInjectRank(t *testing.T) {
	tests := []struct {
		name string
		body string
		rank int
		want string
	}{
		{"appended", `{"text":"hi"}`, 3, `{"text":"hi","data_parallel_rank":3}`},
		{"empty object", `{}`, 0, `{"data_parallel_rank":0}`},
		{"client's own rank replaced", `{"data_parallel_rank":7,"text":"x"}`, 1, `{"text":"x","data_parallel_rank":1}`},
		{"escaped key replaced", `{"a":0,"data_parallel_r\u0061nk":7}`, 2, `{"a":0,"data_parallel_rank":2}`},
		{"nested left alone", `{"x":{"data_parallel_rank":9}}`, 2, `{"x":{"data_parallel_rank":9},"data_parallel_rank":2}`},
		{"bootstrap fields kept", `{"bootstrap_room":5,"text":"x"}`, 1, `{"bootstrap_room":5,"text":"x","data_parallel_rank":1}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := InjectRank([]byte(tc.body), tc.rank)
			if err != nil {
				t.Fatalf("InjectRank: %v", err)
			}
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestInjectRankRefuses(t *testing.T) {
	if _, err := InjectRank([]byte(`[1]`), 0); !errors.Is(err, ErrNotObject) {
		t.Errorf("array body: err = %v, want ErrNotObject", err)
	}
	if _, err := InjectRank([]byte(`{"a":`), 0); err == nil {
		t.Error("truncated body accepted")
	}
	if _, err := InjectRank([]byte(`{}`), -1); err == nil {
		t.Error("negative rank accepted")
	}
}

func TestEditInjectMatchesTheScanningPath(t *testing.T) {
	port := 7
	boot := &Boot{Host: "h", Port: &port, Rooms: []uint64{9}}
	for _, body := range []string{
		`{"text":"hi"}`,
		`{}`,
		` { "text" : "hi" } `,
		`{"data_parallel_rank":1,"text":"x"}`,
		`{"bootstrap_room":1,"text":"x","data_parallel_rank":2}`,
	} {
		_, e, err := ParseEdit(Generate, []byte(body), false)
		if err != nil {
			t.Fatal(err)
		}
		viaBoot, _ := InjectBootstrap([]byte(body), "h", &port, []uint64{9}, false)
		both, _ := InjectRank(viaBoot, 3)
		rankOnly, _ := InjectRank([]byte(body), 3)
		for _, tc := range []struct {
			name string
			bs   *Boot
			rank int
			want []byte
		}{
			{"both", boot, 3, both},
			{"bootstrap", boot, -1, viaBoot},
			{"rank", nil, 3, rankOnly},
			{"neither", nil, -1, []byte(body)},
		} {
			got, err := e.Inject(tc.bs, tc.rank)
			if err != nil || string(got) != string(tc.want) {
				t.Errorf("%s of %s: got %s (%v), want %s", tc.name, body, got, err, tc.want)
			}
		}
	}
}
