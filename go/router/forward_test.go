package router

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestForwardsBodyByteForByte(t *testing.T) {
	f := newFixture(t, testOptions(), "w0")
	body := `{"text":"hi","rid":"r-1","lora_path":"x","regex":"[a-z]+",  "sampling_params":{"max_new_tokens":3}}`
	resp, _ := f.do("POST", "/generate", body, "X-Request-Id", "abc", "Authorization", "Bearer k", "Connection", "close")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	got := f.workers[0].Requests()[0]
	if string(got.Body) != body {
		t.Errorf("worker got body %q, want the client's bytes %q", got.Body, body)
	}
	if got.Header.Get("Authorization") != "Bearer k" || got.Header.Get("X-Request-Id") != "abc" {
		t.Errorf("headers not forwarded: %v", got.Header)
	}
	if resp.Header.Get("X-Request-Id") != "abc" {
		t.Errorf("x-request-id %q, want abc", resp.Header.Get("X-Request-Id"))
	}
}

func TestRequestIDGeneratedWhenAbsent(t *testing.T) {
	f := newFixture(t, testOptions(), "w0")
	r1, _ := f.do("POST", "/generate", `{"text":"a"}`)
	r2, _ := f.do("POST", "/generate", `{"text":"a"}`, "X-Correlation-Id", "corr-7")
	id := r1.Header.Get("X-Request-Id")
	if id == "" || id == r2.Header.Get("X-Request-Id") {
		t.Fatalf("generated id %q", id)
	}
	if r2.Header.Get("X-Request-Id") != "corr-7" {
		t.Errorf("id from x-correlation-id: got %q", r2.Header.Get("X-Request-Id"))
	}
	if got := f.workers[0].Requests()[0].Header.Get("X-Request-Id"); got != id {
		t.Errorf("worker saw id %q, client got %q", got, id)
	}
}

func TestBadInputGetsJSONError(t *testing.T) {
	opts := testOptions()
	opts.MaxPayloadSize = 64
	f := newFixture(t, opts, "w0")
	cases := []struct {
		name, method, path, body string
		status                   int
	}{
		{"malformed json", "POST", "/generate", `{"text": "a"`, 400},
		{"not an object", "POST", "/v1/chat/completions", `[1,2]`, 400},
		{"trailing garbage", "POST", "/v1/completions", `{"prompt":"a"} x`, 400},
		{"oversized body", "POST", "/generate", `{"text":"` + strings.Repeat("a", 100) + `"}`, 413},
		{"unknown path", "GET", "/nope", ``, 404},
		{"wrong method", "GET", "/generate", ``, 405},
		{"add_worker without url", "POST", "/add_worker", ``, 400},
		{"remove unknown worker", "POST", "/remove_worker?url=http://127.0.0.1:1", ``, 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := f.do(tc.method, tc.path, tc.body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tc.status, body)
			}
			var e errorBody
			if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Message == "" || e.Error.Code != tc.status {
				t.Errorf("error body %q is not an OpenAI-style error", body)
			}
		})
	}
	if n := f.workers[0].Count("/generate"); n != 0 {
		t.Errorf("bad requests reached the worker %d times", n)
	}
}

func TestNoHealthyWorkerIs503(t *testing.T) {
	f := newFixture(t, testOptions(), "w0")
	f.worker(0).SetHealthy(false)
	resp, body := f.do("POST", "/generate", `{"text":"a"}`)
	if resp.StatusCode != 503 || !strings.Contains(body, "no healthy worker") {
		t.Fatalf("got %d %s", resp.StatusCode, body)
	}
}

func TestRetriesOnAnotherWorkerBeforeFirstByte(t *testing.T) {
	f := newFixture(t, testOptions(), "bad", "good")
	f.workers[0].FailWith(503)
	resp, body := f.do("POST", "/generate", `{"text":"a"}`)
	if resp.StatusCode != 200 || !strings.Contains(body, "good") {
		t.Fatalf("got %d %s", resp.StatusCode, body)
	}
	if f.workers[0].Count("/generate") != 1 || f.workers[1].Served() != 1 {
		t.Errorf("attempts: bad=%d good=%d", f.workers[0].Count("/generate"), f.workers[1].Served())
	}
	for i := range 2 {
		if l := f.worker(i).Load(); l != 0 {
			t.Errorf("worker %d in-flight %d after the request", i, l)
		}
	}
}

func TestClientErrorIsNotRetried(t *testing.T) {
	f := newFixture(t, testOptions(), "w0", "w1")
	f.workers[0].FailWith(400)
	resp, body := f.do("POST", "/generate", `{"text":"a"}`)
	if resp.StatusCode != 400 || !strings.Contains(body, "injected failure") {
		t.Fatalf("got %d %s, want the worker's own 400", resp.StatusCode, body)
	}
	if f.workers[1].Count("/generate") != 0 {
		t.Error("a 4xx was retried")
	}
}

func TestLastRetryableAnswerIsPassedThrough(t *testing.T) {
	opts := testOptions()
	opts.Retry.MaxRetries = 0
	f := newFixture(t, opts, "w0", "w1")
	f.workers[0].FailWith(503)
	resp, body := f.do("POST", "/generate", `{"text":"a"}`)
	if resp.StatusCode != 503 || !strings.Contains(body, "injected failure") {
		t.Fatalf("got %d %s", resp.StatusCode, body)
	}
}

func TestUnreachableWorkersGive502(t *testing.T) {
	f := newFixture(t, testOptions(), "w0", "w1")
	f.workers[0].Close()
	f.workers[1].Close()
	resp, body := f.do("POST", "/generate", `{"text":"a"}`)
	if resp.StatusCode != 502 {
		t.Fatalf("got %d %s", resp.StatusCode, body)
	}
	if f.worker(0).Load() != 0 || f.worker(1).Load() != 0 {
		t.Error("in-flight count leaked")
	}
}

func TestStreamArrivesEventByEvent(t *testing.T) {
	f := newFixture(t, testOptions(), "w0")
	f.workers[0].StreamEvents.Store(5)
	resp, err := http.Post(f.srv.URL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"messages":[{"role":"user","content":"hi"}],"stream":true}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content-type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	var events []string
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "data: ") {
			events = append(events, line)
		}
	}
	if len(events) != 6 || events[5] != "data: [DONE]" {
		t.Fatalf("got %d events: %v", len(events), events)
	}
	waitFor(t, "in-flight back to 0", func() bool { return f.worker(0).Load() == 0 })
}

func TestClientDisconnectCancelsUpstream(t *testing.T) {
	f := newFixture(t, testOptions(), "w0")
	f.workers[0].Hang(true)
	req, _ := http.NewRequest("POST", f.srv.URL+"/generate", strings.NewReader(`{"text":"a"}`))
	client := &http.Client{Timeout: 200 * time.Millisecond}
	if _, err := client.Do(req); err == nil {
		t.Fatal("expected the client to time out")
	}
	waitFor(t, "in-flight back to 0 after the client left", func() bool { return f.worker(0).Load() == 0 })
}

func TestStreamIsFlushedBeforeTheWorkerContinues(t *testing.T) {
	f := newFixture(t, testOptions(), "w0")
	f.workers[0].Gate = make(chan struct{})
	f.workers[0].StreamEvents.Store(3)
	resp, err := http.Post(f.srv.URL+"/generate", "application/json", strings.NewReader(`{"text":"a","stream":true}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	for i := 0; i < 3; i++ {
		line, err := rd.ReadString('\n') // blocks forever if the router buffered the event
		if err != nil || !strings.Contains(line, "tok") {
			t.Fatalf("event %d: %q %v", i, line, err)
		}
		_, _ = rd.ReadString('\n') // blank line closing the event
		if i < 2 {
			f.workers[0].Gate <- struct{}{}
		}
	}
}

// A streamed request counts as prefilling on its worker until its first
// byte reaches the client, then only as in flight; a non-streamed one
// never counts; an attempt that ends without a byte (client gone) stops
// counting with it. cache_aware's hot rule reads the figure.
func TestStreamedRequestCountsAsPrefillingUntilItsFirstByte(t *testing.T) {
	f := newFixture(t, testOptions(), "w0")
	wk := f.worker(0)

	f.workers[0].Hang(true)
	ctx, cancel := context.WithCancel(context.Background())
	go postStream(ctx, f.srv.URL, `{"text":"a","stream":true}`)
	waitFor(t, "the hanging stream counted as prefilling", func() bool { return wk.Prefilling() == 1 && wk.Load() == 1 })
	cancel()
	waitFor(t, "the abandoned stream counted no more", func() bool { return wk.Prefilling() == 0 && wk.Load() == 0 })

	ctx, cancel = context.WithCancel(context.Background())
	go postStream(ctx, f.srv.URL, `{"text":"a"}`)
	waitFor(t, "the hanging non-streamed request in flight", func() bool { return wk.Load() == 1 })
	if n := wk.Prefilling(); n != 0 {
		t.Errorf("a non-streamed request counted as prefilling: %d", n)
	}
	cancel()
	waitFor(t, "in flight back to 0", func() bool { return wk.Load() == 0 })

	f.workers[0].Hang(false)
	f.workers[0].Gate = make(chan struct{})
	f.workers[0].StreamEvents.Store(2)
	resp, err := http.Post(f.srv.URL+"/generate", "application/json", strings.NewReader(`{"text":"a","stream":true}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if line, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil || !strings.Contains(line, "tok") {
		t.Fatalf("first event: %q %v", line, err)
	}
	// The count ends just after the byte is written: wait for it, with
	// the stream still held open by the gate.
	waitFor(t, "no longer prefilling after the first byte", func() bool { return wk.Prefilling() == 0 })
	if l := wk.Load(); l != 1 {
		t.Errorf("in flight %d while the stream is held open; want 1", l)
	}
	f.workers[0].Gate <- struct{}{}
	_, _ = io.Copy(io.Discard, resp.Body)
	waitFor(t, "in flight back to 0", func() bool { return wk.Load() == 0 && wk.Prefilling() == 0 })
}

// postStream posts body to base's /generate and reads the answer until
// ctx ends it.
func postStream(ctx context.Context, base, body string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/generate", strings.NewReader(body))
	if err != nil {
		return
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
}
