package router

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sgl-project/sglang-router-go/go/policy"
	"github.com/sgl-project/sglang-router-go/go/worker/workertest"
)

// routeBody is a body every body route accepts for the test: it carries
// the fields each route's text is read from.
const routeBody = `{"text":"t","prompt":"p","input":"i","messages":[{"role":"user","content":"m"}],"system":"s","extra":{"kept":[1,2]}}`

func TestEveryForwardedRouteReachesAWorkerUnchanged(t *testing.T) {
	for _, s := range ForwardedRoutes() {
		if s.Kind == KindRouter || s.Kind == KindFanout {
			continue
		}
		t.Run(s.Path, func(t *testing.T) {
			f := newFixture(t, testOptions(), "w0")
			body := ""
			if s.Method == http.MethodPost {
				body = routeBody
			}
			resp, got := f.do(s.Method, s.Path, body, "X-Request-Id", "rid-1")
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, got)
			}
			reqs := f.workers[0].Requests()
			last := reqs[len(reqs)-1]
			if last.Path != s.Path || last.Method != s.Method || string(last.Body) != body {
				t.Errorf("worker got %s %s %q; want %s %s %q", last.Method, last.Path, last.Body, s.Method, s.Path, body)
			}
			if last.Header.Get("X-Request-Id") != "rid-1" {
				t.Errorf("request id %q not passed on", last.Header.Get("X-Request-Id"))
			}
		})
	}
}

func TestRouteTableRefusesWhatItDoesNotKnow(t *testing.T) {
	f := newFixture(t, testOptions(), "w0")
	cases := []struct {
		name, method, path, body string
		want                     int
	}{
		{"unknown route", "POST", "/v1/unknown", `{}`, 404},
		{"unknown route under a known prefix", "POST", "/v1/responses/x/unknown", ``, 404},
		{"wrong method", "GET", "/v1/embeddings", ``, 405},
		{"body route with a non-object body", "POST", "/tokenize", `[1]`, 400},
		{"body route with broken JSON", "POST", "/v1/rerank", `{"query":`, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if resp, body := f.do(tc.method, tc.path, tc.body); resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tc.want, body)
			}
		})
	}
}

// modelFixture is a router over workers serving models: names[i] serves
// models[i].
func modelFixture(t *testing.T, opts Options, names, models []string) (*fixture, *atomic.Int32) {
	f := newFixture(t, opts, names...)
	made := &atomic.Int32{}
	f.pool.NewPolicy = func(string) policy.Policy { made.Add(1); return firstPolicy{} }
	for i, m := range models {
		f.workers[i].SetModel(m)
		f.worker(i).SetModel(m)
	}
	return f, made
}

func TestRequestsGoToTheWorkersOfTheirModel(t *testing.T) {
	f, made := modelFixture(t, testOptions(), []string{"a0", "b0", "b1"}, []string{"A", "B", "B"})
	for _, tc := range []struct{ model, want string }{{"A", "a0"}, {"B", "b0"}, {"A", "a0"}} {
		resp, body := f.do("POST", "/v1/chat/completions", `{"model":"`+tc.model+`","messages":[]}`)
		if resp.StatusCode != 200 || !strings.Contains(body, `"worker":"`+tc.want+`"`) {
			t.Errorf("model %s: %d %s; want worker %s", tc.model, resp.StatusCode, body, tc.want)
		}
	}
	if made.Load() != 2 {
		t.Errorf("%d policy instances made, want one per model (2)", made.Load())
	}
	f.worker(1).SetHealthy(false)
	if _, body := f.do("POST", "/v1/embeddings", `{"model":"B","input":"x"}`); !strings.Contains(body, `"worker":"b1"`) {
		t.Errorf("B's other worker should serve when b0 is down: %s", body)
	}
}

func TestUnknownModelIsOpenAI404WhenSeveralModelsAreServed(t *testing.T) {
	f, _ := modelFixture(t, testOptions(), []string{"a0", "b0"}, []string{"A", "B"})
	resp, body := f.do("POST", "/v1/completions", `{"model":"C","prompt":"x"}`)
	var e struct {
		Error struct{ Message, Type, Param, Code string }
	}
	if resp.StatusCode != 404 || json.Unmarshal([]byte(body), &e) != nil || e.Error.Code != "model_not_found" ||
		e.Error.Param != "model" || e.Error.Type != "invalid_request_error" || !strings.Contains(e.Error.Message, "'C'") {
		t.Fatalf("unknown model: %d %s", resp.StatusCode, body)
	}
	if n := len(f.workers[0].Requests()) + len(f.workers[1].Requests()); n != 0 {
		t.Errorf("%d requests reached workers", n)
	}
}

func TestRequestWithoutModel(t *testing.T) {
	t.Run("one model served: any name goes to it, as to a single server", func(t *testing.T) {
		f, _ := modelFixture(t, testOptions(), []string{"a0"}, []string{"A"})
		for _, body := range []string{`{"text":"x"}`, `{"text":"x","model":"whatever"}`} {
			if resp, got := f.do("POST", "/generate", body); resp.StatusCode != 200 {
				t.Errorf("%s: %d %s", body, resp.StatusCode, got)
			}
		}
	})
	t.Run("default model configured", func(t *testing.T) {
		opts := testOptions()
		opts.DefaultModel = "B"
		f, _ := modelFixture(t, opts, []string{"a0", "b0"}, []string{"A", "B"})
		if _, got := f.do("POST", "/generate", `{"text":"x"}`); !strings.Contains(got, `"worker":"b0"`) {
			t.Errorf("no model should go to the default model's worker: %s", got)
		}
	})
	t.Run("several models, no default: any worker", func(t *testing.T) {
		f, _ := modelFixture(t, testOptions(), []string{"a0", "b0"}, []string{"A", "B"})
		if resp, got := f.do("POST", "/generate", `{"text":"x"}`); resp.StatusCode != 200 {
			t.Errorf("%d %s", resp.StatusCode, got)
		}
	})
}

func TestWorkerWhoseModelIsPendingIsNotRouted(t *testing.T) {
	f := newFixture(t, testOptions(), "w0")
	f.worker(0).ExpectModel()
	if resp, body := f.do("POST", "/generate", `{"text":"x"}`); resp.StatusCode != 503 {
		t.Fatalf("pending worker served: %d %s", resp.StatusCode, body)
	}
	f.worker(0).SetModel("m")
	if resp, body := f.do("POST", "/generate", `{"text":"x"}`); resp.StatusCode != 200 {
		t.Fatalf("learned worker not served: %d %s", resp.StatusCode, body)
	}
}

func TestModelsListedByTheRouterWithTheirWorkers(t *testing.T) {
	f, _ := modelFixture(t, testOptions(), []string{"a0", "b0", "b1"}, []string{"A", "B", "B"})
	f.worker(2).SetHealthy(false)
	_, body := f.do("GET", "/v1/models", "")
	var list struct {
		Object string
		Data   []struct {
			ID      string
			Workers []struct {
				URL     string
				Healthy bool
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil || list.Object != "list" || len(list.Data) != 2 {
		t.Fatalf("/v1/models: %s", body)
	}
	if list.Data[0].ID != "A" || list.Data[1].ID != "B" || len(list.Data[1].Workers) != 2 ||
		!list.Data[1].Workers[0].Healthy || list.Data[1].Workers[1].Healthy {
		t.Errorf("/v1/models: %s", body)
	}
	if resp, _ := f.do("GET", "/v1/models/B", ""); resp.StatusCode != 200 {
		t.Errorf("/v1/models/B: %d", resp.StatusCode)
	}
	if resp, body := f.do("GET", "/v1/models/C", ""); resp.StatusCode != 404 || !strings.Contains(body, "model_not_found") {
		t.Errorf("/v1/models/C: %d %s", resp.StatusCode, body)
	}
	for _, w := range f.workers {
		if w.Count("/v1/models") != 0 {
			t.Errorf("%s was asked for /v1/models; the router answers it", w.Name)
		}
	}
}

func TestStoredResponseIsReachedOnTheWorkerThatMadeIt(t *testing.T) {
	f := newFixture(t, testOptions(), "w0", "w1")
	f.worker(0).SetHealthy(false) // the response is made on w1
	_, body := f.do("POST", "/v1/responses", `{"input":"hi"}`)
	var made struct{ ID string }
	if err := json.Unmarshal([]byte(body), &made); err != nil || !strings.HasPrefix(made.ID, "resp_w1_") {
		t.Fatalf("/v1/responses: %s", body)
	}
	f.worker(0).SetHealthy(true) // firstPolicy would now pick w0
	for _, tc := range []struct{ method, suffix string }{{"GET", ""}, {"GET", "/input_items"}, {"POST", "/cancel"}, {"DELETE", ""}} {
		path := "/v1/responses/" + made.ID + tc.suffix
		if resp, got := f.do(tc.method, path, ""); resp.StatusCode != 200 || !strings.Contains(got, `"worker":"w1"`) {
			t.Errorf("%s %s: %d %s", tc.method, path, resp.StatusCode, got)
		}
	}
	if resp, got := f.do("GET", "/v1/responses/resp_unknown", ""); resp.StatusCode != 404 {
		t.Errorf("unknown response id: %d %s", resp.StatusCode, got)
	}
	if resp, _ := f.do("PUT", "/v1/responses/"+made.ID, ""); resp.StatusCode != 404 {
		t.Errorf("PUT on a response: %d, want 404", resp.StatusCode)
	}
}

func TestResponseID(t *testing.T) {
	for _, tc := range []struct{ head, want string }{
		{`{"id":"resp_1","object":"response"}`, "resp_1"},
		{"event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\" : \"resp_2\"}}", "resp_2"},
		{`{"error":{"message":"x"}}`, ""},
		{`{"id":5}`, ""},
		{`{"id":"unterminated`, ""},
		{`{"id":"esc\"aped"}`, ""},
	} {
		if got := responseID([]byte(tc.head)); got != tc.want {
			t.Errorf("responseID(%q) = %q, want %q", tc.head, got, tc.want)
		}
	}
}

func TestAbortGoesToTheWorkerRunningTheRID(t *testing.T) {
	f := newFixture(t, testOptions(), "w0", "w1")
	f.workers[0].Hang(true)
	cancel, done := hangingPost(f.srv.URL+"/generate", `{"text":"x","rid":"r-7"}`)
	waitFor(t, "the request in flight on w0", func() bool { return f.worker(0).Load() == 1 })
	abort := `{"rid":"r-7"}`
	if resp, body := f.do("POST", "/abort_request", abort); resp.StatusCode != 200 {
		t.Fatalf("abort: %d %s", resp.StatusCode, body)
	}
	if f.workers[0].Count("/abort_request") != 1 || f.workers[1].Count("/abort_request") != 0 {
		t.Errorf("abort of r-7 reached w0 %d and w1 %d times; want w0 only",
			f.workers[0].Count("/abort_request"), f.workers[1].Count("/abort_request"))
	}
	reqs := f.workers[0].Requests()
	if got := reqs[len(reqs)-1]; !bytes.Equal(got.Body, []byte(abort)) {
		t.Errorf("abort body %q, want %q", got.Body, abort)
	}
	cancel() // the client leaves: the request ends
	<-done
	waitFor(t, "the rid forgotten", func() bool { return f.rt.rids.get("r-7") == nil })
	if resp, _ := f.do("POST", "/abort_request", abort); resp.StatusCode != 200 {
		t.Fatalf("second abort: %d", resp.StatusCode)
	}
	if f.workers[0].Count("/abort_request") != 2 || f.workers[1].Count("/abort_request") != 1 {
		t.Errorf("abort of a finished rid should reach every worker")
	}
}

func TestAbortInPDModeReachesBothLegs(t *testing.T) {
	f := newPDFixture(t, testOptions(), 2, 2)
	f.decode[0].Hang(true)
	cancel, done := hangingPost(f.srv.URL+"/generate", `{"text":"x","rid":"pd-1"}`)
	waitFor(t, "the pair in flight", func() bool { return f.rt.rids.get("pd-1") != nil })
	if resp, body := f.do("POST", "/abort_request", `{"rid":"pd-1"}`); resp.StatusCode != 200 {
		t.Fatalf("abort: %d %s", resp.StatusCode, body)
	}
	got := []int{f.prefill[0].Count("/abort_request"), f.prefill[1].Count("/abort_request"),
		f.decode[0].Count("/abort_request"), f.decode[1].Count("/abort_request")}
	if got[0] != 1 || got[1] != 0 || got[2] != 1 || got[3] != 0 {
		t.Errorf("aborts on prefill0, prefill1, decode0, decode1 = %v; want the pair's legs only", got)
	}
	cancel()
	<-done
}

// hangingPost POSTs body to url in the background until cancel is called;
// done is closed when the request ended.
func hangingPost(url, body string) (cancel func(), done chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	done = make(chan struct{})
	go func() {
		defer close(done)
		req, _ := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(body))
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	return cancel, done
}

func TestPDModeServesRoutesWithoutPairs(t *testing.T) {
	f := newPDFixture(t, testOptions(), 1, 1)
	if resp, body := f.do("POST", "/v1/messages", `{"messages":[]}`); resp.StatusCode != 501 {
		t.Errorf("/v1/messages in PD mode: %d %s", resp.StatusCode, body)
	}
	if resp, body := f.do("POST", "/tokenize", `{"prompt":"x"}`); resp.StatusCode != 200 || !strings.Contains(body, `"worker":"prefill0"`) {
		t.Errorf("/tokenize in PD mode: %d %s", resp.StatusCode, body)
	}
}

func TestResponseContinuingAStoredOneGoesToItsWorker(t *testing.T) {
	f := newFixture(t, testOptions(), "w0", "w1")
	f.worker(0).SetHealthy(false)
	_, body := f.do("POST", "/v1/responses", `{"input":"first"}`)
	var made struct{ ID string }
	if err := json.Unmarshal([]byte(body), &made); err != nil || !strings.HasPrefix(made.ID, "resp_w1_") {
		t.Fatalf("/v1/responses: %s", body)
	}
	f.worker(0).SetHealthy(true) // firstPolicy would now pick w0
	_, body = f.do("POST", "/v1/responses", `{"input":"second","previous_response_id":"`+made.ID+`"}`)
	if !strings.Contains(body, `"worker":"w1"`) {
		t.Errorf("continuation went elsewhere: %s", body)
	}
	f.worker(1).SetHealthy(false) // its worker is gone: any worker serves
	if resp, body := f.do("POST", "/v1/responses", `{"input":"third","previous_response_id":"`+made.ID+`"}`); resp.StatusCode != 200 || !strings.Contains(body, `"worker":"w0"`) {
		t.Errorf("continuation with its worker down: %d %s", resp.StatusCode, body)
	}
}

func TestPDPoolsPerModel(t *testing.T) {
	f := newPDFixture(t, testOptions(), 2, 2)
	for i, p := range []*Pool{f.rt.prefill, f.rt.decode} {
		for j, w := range p.Registry.Snapshot() {
			w.SetModel([]string{"A", "B"}[j])
			[][]*workertest.Worker{f.prefill, f.decode}[i][j].SetModel([]string{"A", "B"}[j])
		}
	}
	if resp, body := f.do("POST", "/generate", `{"text":"x","model":"B"}`); resp.StatusCode != 200 {
		t.Fatalf("PD request for B: %d %s", resp.StatusCode, body)
	}
	if f.prefill[1].Count("/generate") != 1 || f.decode[1].Count("/generate") != 1 || f.prefill[0].Count("/generate")+f.decode[0].Count("/generate") != 0 {
		t.Errorf("B's pair should be prefill1 + decode1")
	}
	if resp, _ := f.do("POST", "/generate", `{"text":"x","model":"C"}`); resp.StatusCode != 404 {
		t.Errorf("unknown model in PD mode: %d", resp.StatusCode)
	}
}

func TestClientKeysGuardEveryForwardedRoute(t *testing.T) {
	opts := testOptions()
	opts.ClientAPIKeys = []string{"client-key"}
	f := newFixture(t, opts, "w0")
	for _, s := range ForwardedRoutes() {
		path := strings.NewReplacer("{model}", "m", "{id}", "resp_x").Replace(s.Path)
		if resp, _ := f.do(s.Method, path, `{}`); resp.StatusCode != 401 {
			t.Errorf("%s %s without a key: %d, want 401", s.Method, path, resp.StatusCode)
		}
	}
	if resp, body := f.do("POST", "/v1/embeddings", `{"input":"x"}`, "Authorization", "Bearer client-key"); resp.StatusCode != 200 {
		t.Errorf("with the key: %d %s", resp.StatusCode, body)
	}
}

func TestUnknownModelNameIsNotEchoedWhole(t *testing.T) {
	f, _ := modelFixture(t, testOptions(), []string{"a0", "b0"}, []string{"A", "B"})
	long := strings.Repeat("x", 100000)
	resp, body := f.do("POST", "/generate", `{"text":"t","model":"`+long+`"}`)
	if resp.StatusCode != 404 || len(body) > 1000 {
		t.Errorf("unknown long model: %d, %d bytes of answer", resp.StatusCode, len(body))
	}
}

// labelRecorder keeps the route labels of requests and first bytes.
type labelRecorder struct {
	nopRecorder
	mu     sync.Mutex // guards labels
	labels map[string]bool
}

func (r *labelRecorder) note(l string)                           { r.mu.Lock(); r.labels[l] = true; r.mu.Unlock() }
func (r *labelRecorder) RecordRequest(l string, _ time.Duration) { r.note(l) }
func (r *labelRecorder) RecordTTFT(l string, _ time.Duration)    { r.note(l) }

func TestRoutesWithIDsHaveBoundedMetricLabels(t *testing.T) {
	f := newFixture(t, testOptions(), "w0")
	rec := &labelRecorder{labels: map[string]bool{}}
	f.rt.rec = rec
	_, body := f.do("POST", "/v1/responses", `{"input":"x"}`)
	var made struct{ ID string }
	_ = json.Unmarshal([]byte(body), &made)
	f.do("GET", "/v1/responses/"+made.ID, "")
	f.do("GET", "/v1/responses/"+made.ID+"/input_items", "")
	f.do("GET", "/v1/models/some-model", "")
	for l := range rec.labels {
		if strings.Contains(l, made.ID) || strings.Contains(l, "some-model") {
			t.Errorf("metric label %q carries an id", l)
		}
	}
	if !rec.labels["/v1/responses/{id}"] || !rec.labels["/v1/models/{model}"] {
		t.Errorf("labels %v", rec.labels)
	}
}

func TestOllamaTagsListEveryModel(t *testing.T) {
	f, _ := modelFixture(t, testOptions(), []string{"a0", "b0"}, []string{"A", "B"})
	_, body := f.do("GET", "/api/tags", "")
	if !strings.Contains(body, `"name":"A"`) || !strings.Contains(body, `"name":"B"`) || f.workers[0].Count("/api/tags")+f.workers[1].Count("/api/tags") != 0 {
		t.Errorf("/api/tags: %s", body)
	}
}
