package router

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sgl-project/sglang-router-go/go/worker"
)

func (f *pdFixture) pools() []*Pool { return []*Pool{f.rt.prefill, f.rt.decode} }

// The case: both prefill workers answer 500. The client gets the
// last prefill answer whole (status, headers and the body they announce),
// after one attempt on each; the decode requests are cancelled.
func TestPDFailingPrefillAnswerReachesClientWhole(t *testing.T) {
	opts := testOptions()
	opts.Retry.MaxRetries = 1
	f := newPDFixture(t, opts, 2, 1)
	for _, p := range f.prefill {
		p.FailWith(500)
	}
	f.decode[0].Hang(true) // waits for a KV cache that never comes
	resp, body := f.do("POST", "/generate", `{"text":"a"}`)
	var answer map[string]any
	if resp.StatusCode != 500 || json.Unmarshal([]byte(body), &answer) != nil || answer["error"] != "injected failure" {
		t.Fatalf("got %d %q, want the prefill's 500 answer", resp.StatusCode, body)
	}
	if cl := resp.Header.Get("Content-Length"); cl != strconv.Itoa(len(body)) {
		t.Errorf("Content-Length %s for a body of %d bytes", cl, len(body))
	}
	if f.prefill[0].Count("/generate") != 1 || f.prefill[1].Count("/generate") != 1 {
		t.Errorf("prefill attempts: %d and %d, want one each", f.prefill[0].Count("/generate"), f.prefill[1].Count("/generate"))
	}
	waitFor(t, "in-flight back to 0", func() bool { return inFlight(f.pools()...) == 0 })
}

// A prefill's 4xx is the client's error: it is passed on, never retried,
// and charges nobody (with a breaker that opens on one failure, the third
// request still reaches the worker).
func TestPDPrefill4xxGoesToTheClientAndChargesNobody(t *testing.T) {
	f := newPDFixture(t, testOptions(), 2, 1)
	useBreakers(t, oneStrike, f.pools()...)
	rec, _ := f.observe()
	f.prefill[0].FailWith(400)
	for i := range 3 {
		resp, body := f.do("POST", "/generate", `{"text":"a"}`)
		if resp.StatusCode != 400 || !strings.Contains(body, "injected failure") {
			t.Fatalf("request %d: got %d %s, want the prefill's 400", i, resp.StatusCode, body)
		}
	}
	if n := f.prefill[1].Count("/generate"); n != 0 {
		t.Errorf("a 4xx was retried on another prefill worker %d times", n)
	}
	now := time.Now()
	for _, w := range slices.Concat(f.rt.prefill.Registry.Snapshot(), f.rt.decode.Registry.Snapshot()) {
		if w.CircuitState(now) != worker.CircuitClosed {
			t.Errorf("%s charged for a client error", w.URL())
		}
	}
	if _, pd, counts := rec.snapshot(); len(counts) != 0 || !slices.Equal(pd, []string{"invalid_request_error", "invalid_request_error", "invalid_request_error"}) {
		t.Errorf("PD errors %v, per-worker counts %v", pd, counts)
	}
}

// A leg that cannot connect is retried with another worker of its pool,
// paired with the same worker of the other pool under a new room.
func TestPDLegThatCannotConnectIsRetriedElsewhere(t *testing.T) {
	for _, deadPrefill := range []bool{true, false} {
		name := map[bool]string{true: "dead prefill", false: "dead decode"}[deadPrefill]
		t.Run(name, func(t *testing.T) {
			f := newPDFixture(t, testOptions(), 2, 2)
			rec, _ := f.observe()
			dead, alive := f.decode[0], f.decode[1]
			if deadPrefill {
				dead, alive = f.prefill[0], f.prefill[1]
			}
			dead.Close()
			resp, body := f.do("POST", "/generate", `{"text":"a"}`)
			if resp.StatusCode != 200 || !strings.Contains(body, "decode") {
				t.Fatalf("got %d %s", resp.StatusCode, body)
			}
			if alive.Count("/generate") != 1 {
				t.Fatalf("the other worker of the pool got %d requests", alive.Count("/generate"))
			}
			served := map[bool]int{true: 0, false: 1}[deadPrefill] // the decode that answered
			pre := f.prefill[1-served].Requests()
			dec := f.decode[served].Requests()
			pb, _ := received(t, pre[len(pre)-1].Body)
			db, _ := received(t, dec[len(dec)-1].Body)
			if pb.Room != db.Room {
				t.Errorf("the answering pair used rooms %v and %v", pb.Room, db.Room)
			}
			// The first attempt's request to the live leg may have arrived
			// before it was cancelled: if so, under another room.
			rooms, requests := map[any]bool{}, 0
			for _, w := range slices.Concat(f.prefill, f.decode) {
				for _, r := range w.Requests() {
					b, _ := received(t, r.Body)
					rooms[b.Room], requests = true, requests+1
				}
			}
			if len(rooms) != requests-1 {
				t.Errorf("%d requests under rooms %v: the retry must use a new room", requests, rooms)
			}
			waitFor(t, "in-flight back to 0", func() bool { return inFlight(f.pools()...) == 0 })
			if _, _, counts := rec.snapshot(); len(counts) != 1 {
				t.Errorf("per-worker PD errors %v, want the dead worker's only", counts)
			}
		})
	}
}

// When the decode leg fails, the prefill leg is cancelled at once: the
// answer is 502 long before the request timeout, and the prefill worker
// is released.
func TestPDDecodeFailureCancelsThePrefill(t *testing.T) {
	opts := testOptions()
	opts.RequestTimeout = time.Hour
	opts.Retry.MaxRetries = 0
	f := newPDFixture(t, opts, 1, 1)
	f.prefill[0].Hang(true)
	f.decode[0].Close()
	resp, body := f.do("POST", "/generate", `{"text":"a"}`)
	if resp.StatusCode != 502 || !strings.Contains(body, "decode worker unavailable") {
		t.Fatalf("got %d %s", resp.StatusCode, body)
	}
	namesNoWorker(t, body, f.pools()...)
	waitFor(t, "prefill released", func() bool { return inFlight(f.rt.prefill) == 0 })
}

// A decode stream that breaks in the logprob-merge path ends with an error
// event and an aborted connection, not like a complete answer.
func TestPDBrokenMergedStreamAbortsTheClient(t *testing.T) {
	f := newPDFixture(t, testOptions(), 1, 1)
	rec, _ := f.observe()
	f.decode[0].StreamEvents.Store(4)
	f.decode[0].BreakAfter.Store(1)
	resp, s := readStream(t, f.srv.URL+"/generate", `{"text":"a","return_logprob":true,"stream":true}`)
	if resp.StatusCode != 200 || len(s.events) != 2 || !strings.Contains(s.events[0], `"prefill0"`) {
		t.Fatalf("got %d, events %q", resp.StatusCode, s.events)
	}
	if e := clientError(t, s.events[1]); e.Error.Code != 502 || !strings.Contains(e.Error.Message, "decode worker unavailable") {
		t.Errorf("final event %s", s.events[1])
	}
	if s.end == nil {
		t.Error("the broken stream ended like a complete answer")
	}
	waitFor(t, "in-flight back to 0", func() bool { return inFlight(f.pools()...) == 0 })
	dec := f.rt.decode.Registry.Snapshot()[0].URL()
	if _, pd, counts := rec.snapshot(); counts["stream_errors "+dec] != 1 || counts["decode_errors "+dec] != 1 || !slices.Equal(pd, []string{"upstream_error"}) {
		t.Errorf("PD errors %v, per-worker counts %v", pd, counts)
	}
}

// A non-streamed merged answer is read whole before anything is written,
// so a decode that breaks mid-body gives the client a plain error.
func TestPDBrokenMergedBodyIsAPlainError(t *testing.T) {
	f := newPDFixture(t, testOptions(), 1, 1)
	f.decode[0].BreakAfter.Store(1)
	resp, body := f.do("POST", "/generate", `{"text":"a","return_logprob":true}`)
	if resp.StatusCode != 502 || clientError(t, body).Error.Type != "upstream_error" {
		t.Fatalf("got %d %s", resp.StatusCode, body)
	}
	waitFor(t, "in-flight back to 0", func() bool { return inFlight(f.pools()...) == 0 })
}

// PD dispatches go through the same bookkeeping as regular ones: the
// running-requests gauge rises and falls for both workers.
func TestPDSetsTheRunningRequestsGauge(t *testing.T) {
	f := newPDFixture(t, testOptions(), 1, 1)
	rec, _ := f.observe()
	for _, stream := range []string{"false", "true"} {
		if resp, body := f.do("POST", "/generate", `{"text":"a","stream":`+stream+`}`); resp.StatusCode != 200 {
			t.Fatalf("got %d %s", resp.StatusCode, body)
		}
	}
	for _, p := range f.pools() {
		w := p.Registry.Snapshot()[0].URL()
		if got := rec.gauge(w); !slices.Equal(got, []int64{1, 0, 1, 0}) {
			t.Errorf("%s running gauge went %v, want 1 0 1 0", w, got)
		}
	}
}
