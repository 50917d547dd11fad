package router

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/sgl-project/sglang-router-go/go/policy"
	"github.com/sgl-project/sglang-router-go/go/worker/workertest"
)

// bootstrap is what a worker received of the bootstrap fields.
type bootstrap struct {
	Host any `json:"bootstrap_host"`
	Port any `json:"bootstrap_port"`
	Room any `json:"bootstrap_room"`
}

func received(t *testing.T, body []byte) (bootstrap, map[string]any) {
	t.Helper()
	var b bootstrap
	var all map[string]any
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatalf("worker got invalid JSON %q: %v", body, err)
	}
	_ = json.Unmarshal(body, &all)
	return b, all
}

func TestPDSendsTheSameRoomToBothSides(t *testing.T) {
	f := newPDFixture(t, testOptions(), 1, 1)
	resp, body := f.do("POST", "/generate", `{"text":"hello","rid":"keep-me","sampling_params":{"max_new_tokens":4}}`)
	if resp.StatusCode != 200 || !strings.Contains(body, "decode0") {
		t.Fatalf("got %d %s, want the decode answer", resp.StatusCode, body)
	}
	pb, pall := received(t, f.prefill[0].Requests()[0].Body)
	db, _ := received(t, f.decode[0].Requests()[0].Body)
	u, _ := url.Parse(f.prefill[0].URL)
	if pb != db || pb.Host != u.Hostname() || pb.Port != 8998.0 {
		t.Fatalf("prefill got %+v, decode got %+v", pb, db)
	}
	if room, ok := pb.Room.(float64); !ok || room < 0 {
		t.Errorf("room %v", pb.Room)
	}
	if pall["rid"] != "keep-me" || pall["text"] != "hello" {
		t.Errorf("other fields lost: %v", pall)
	}
	if f.rt.prefill.Registry.Snapshot()[0].Load() != 0 || f.rt.decode.Registry.Snapshot()[0].Load() != 0 {
		t.Error("PD load counts leaked")
	}
}

func TestPDBatchGetsOneRoomPerEntry(t *testing.T) {
	f := newPDFixture(t, testOptions(), 1, 1)
	f.do("POST", "/generate", `{"text":["a","b","c"]}`)
	pb, _ := received(t, f.prefill[0].Requests()[0].Body)
	db, _ := received(t, f.decode[0].Requests()[0].Body)
	rooms, ok := pb.Room.([]any)
	if !ok || len(rooms) != 3 || rooms[0] == rooms[1] || rooms[1] == rooms[2] {
		t.Fatalf("rooms %v", pb.Room)
	}
	if hosts, ok := pb.Host.([]any); !ok || len(hosts) != 3 {
		t.Fatalf("hosts %v", pb.Host)
	}
	if !equalJSON(pb, db) {
		t.Fatalf("prefill %+v and decode %+v differ", pb, db)
	}
}

func TestPDChatWithNGetsRoomsArrays(t *testing.T) {
	f := newPDFixture(t, testOptions(), 1, 1)
	f.do("POST", "/v1/chat/completions", `{"messages":[{"role":"user","content":"hi"}],"n":2}`)
	pb, _ := received(t, f.prefill[0].Requests()[0].Body)
	if rooms, ok := pb.Room.([]any); !ok || len(rooms) != 2 {
		t.Fatalf("rooms %v", pb.Room)
	}
}

func TestPDPrefillFailureReachesClientAndCancelsDecode(t *testing.T) {
	f := newPDFixture(t, testOptions(), 1, 1)
	f.prefill[0].FailWith(500)
	f.decode[0].Hang(true) // would wait forever for the KV cache
	resp, body := f.do("POST", "/generate", `{"text":"a"}`)
	if resp.StatusCode != 500 || !strings.Contains(body, "injected failure") {
		t.Fatalf("got %d %s, want the prefill error", resp.StatusCode, body)
	}
	waitFor(t, "decode released", func() bool { return f.rt.decode.Registry.Snapshot()[0].Load() == 0 })
}

func TestPDDeadPrefillGives502(t *testing.T) {
	f := newPDFixture(t, testOptions(), 1, 1)
	f.prefill[0].Close()
	resp, body := f.do("POST", "/generate", `{"text":"a"}`)
	if resp.StatusCode != 502 || !strings.Contains(body, "prefill") {
		t.Fatalf("got %d %s", resp.StatusCode, body)
	}
}

func TestPDMergesInputLogprobs(t *testing.T) {
	f := newPDFixture(t, testOptions(), 1, 1)
	_, body := f.do("POST", "/generate", `{"text":"a","return_logprob":true}`)
	var got struct {
		Meta struct {
			LP [][]any `json:"input_token_logprobs"`
		} `json:"meta_info"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || len(got.Meta.LP) != 2 {
		t.Fatalf("body %s", body)
	}
	if got.Meta.LP[0][2] != "prefill0" || got.Meta.LP[1][2] != "decode0" {
		t.Errorf("logprobs %v, want prefill's then decode's", got.Meta.LP)
	}
}

func TestPDMergesInputLogprobsInEveryStreamedEvent(t *testing.T) {
	f := newPDFixture(t, testOptions(), 1, 1)
	_, body := f.do("POST", "/generate", `{"text":"a","return_logprob":true,"stream":true}`)
	events := 0
	for _, line := range strings.Split(body, "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok || data == "[DONE]" {
			continue
		}
		events++
		if !strings.Contains(data, `"prefill0"`) || !strings.Contains(data, `"decode0"`) {
			t.Errorf("event without merged logprobs: %s", data)
		}
	}
	if events != 3 || !strings.HasSuffix(strings.TrimSpace(body), "data: [DONE]") {
		t.Fatalf("%d events: %s", events, body)
	}
}

func TestPDNoDecodeWorkerIs503(t *testing.T) {
	f := newPDFixture(t, testOptions(), 1, 1)
	f.rt.decode.Registry.Snapshot()[0].SetHealthy(false)
	if resp, _ := f.do("POST", "/generate", `{"text":"a"}`); resp.StatusCode != 503 {
		t.Fatalf("got %d", resp.StatusCode)
	}
}

func TestPDAdminRoutes(t *testing.T) {
	f := newPDFixture(t, testOptions(), 1, 1)
	_, body := f.do("GET", "/list_workers", "")
	var list map[string][]string
	_ = json.Unmarshal([]byte(body), &list)
	if len(list["prefill"]) != 1 || len(list["decode"]) != 1 || len(list["urls"]) != 2 {
		t.Fatalf("list %s", body)
	}
	_, body = f.do("GET", "/get_loads", "")
	if !strings.Contains(body, `"prefill"`) || !strings.Contains(body, `"decode"`) {
		t.Fatalf("loads %s", body)
	}
	extra := f.prefill[0].URL // already present
	if resp, _ := f.do("POST", "/add_worker?url="+extra+"&role=prefill&bootstrap_port=9000", ""); resp.StatusCode != 400 {
		t.Fatalf("duplicate add: %d", resp.StatusCode)
	}
	if resp, _ := f.do("POST", "/add_worker?url=http://127.0.0.1:1", ""); resp.StatusCode != 400 {
		t.Fatalf("add without role in PD mode: %d", resp.StatusCode)
	}
	if resp, _ := f.do("GET", "/readiness", ""); resp.StatusCode != 200 {
		t.Fatalf("readiness %d", resp.StatusCode)
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestPDRoundRobinPairsCoverEveryCombination(t *testing.T) {
	f := newPDFixture(t, testOptions(), 2, 2)
	f.rt.prefill.Policy = policy.NewRoundRobin(false)
	f.rt.decode.Policy = policy.NewRoundRobin(true) // as the app builds the decode pool
	for range 8 {
		if resp, body := f.do("POST", "/generate", `{"text":"a"}`); resp.StatusCode != 200 {
			t.Fatalf("got %d %s", resp.StatusCode, body)
		}
	}
	// Pair requests by room: each room went to one prefill and one decode worker.
	where := map[string]string{}
	for _, side := range [][]*workertest.Worker{f.prefill, f.decode} {
		for _, w := range side {
			for _, r := range w.Requests() {
				b, _ := received(t, r.Body)
				room, _ := json.Marshal(b.Room)
				where[string(room)] += w.Name + "+"
			}
		}
	}
	pairs := map[string]int{}
	for _, p := range where {
		pairs[p]++
	}
	if len(where) != 8 || len(pairs) != 4 {
		t.Fatalf("rooms %d, pairings %v; want 8 rooms over all 4 pairings", len(where), pairs)
	}
}

func TestPDAddWorkerWithRoleAndBootstrapPort(t *testing.T) {
	f := newPDFixture(t, testOptions(), 1, 1)
	p2, d2 := workertest.New(t, "prefill-new"), workertest.New(t, "decode-new")
	if resp, body := f.do("POST", "/add_worker?url="+p2.URL+"&role=prefill&bootstrap_port=9100", ""); resp.StatusCode != 200 {
		t.Fatalf("add prefill: %d %s", resp.StatusCode, body)
	}
	if resp, body := f.do("POST", "/add_worker?url="+d2.URL+"&role=decode", ""); resp.StatusCode != 200 {
		t.Fatalf("add decode: %d %s", resp.StatusCode, body)
	}
	if got := f.rt.prefill.Registry.Get(p2.URL); got == nil || got.BootstrapPort() == nil || *got.BootstrapPort() != 9100 {
		t.Fatalf("prefill worker %v without its bootstrap port", got)
	}
	if f.rt.decode.Registry.Get(d2.URL) == nil {
		t.Fatal("decode worker not in the decode pool")
	}
	if resp, _ := f.do("POST", "/remove_worker?url="+p2.URL, ""); resp.StatusCode != 200 || f.rt.prefill.Registry.Get(p2.URL) != nil {
		t.Fatalf("remove prefill: %d", resp.StatusCode)
	}
}
