package sim

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

const smallGenerate = `{"text": "a b c", "sampling_params": {"max_new_tokens": 2}}`

// statuses sends n small /generate requests and returns their statuses.
func statuses(t *testing.T, url string, n int) []int {
	t.Helper()
	out := make([]int, n)
	for i := range out {
		out[i], _ = post(t, url+"/generate", smallGenerate)
	}
	return out
}

func count(codes []int, code int) int {
	n := 0
	for _, c := range codes {
		if c == code {
			n++
		}
	}
	return n
}

func TestFaultFailFirstN(t *testing.T) {
	s, ts := testServer(t, Config{FaultFailFirstN: 2})
	got := statuses(t, ts.URL, 4)
	if got[0] != 500 || got[1] != 500 || got[2] != 200 || got[3] != 200 {
		t.Fatalf("statuses %v, want 500 500 200 200", got)
	}
	if st := s.Stats(); st.InjectedFailures != 2 || st.Requests != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestFaultFailRateIsSeeded(t *testing.T) {
	cfg := Config{FaultFailRate: 0.3, Seed: 42}
	_, a := testServer(t, cfg)
	_, b := testServer(t, cfg)
	ca, cb := statuses(t, a.URL, 200), statuses(t, b.URL, 200)
	for i := range ca {
		if ca[i] != cb[i] {
			t.Fatalf("request %d: %d vs %d with the same seed", i, ca[i], cb[i])
		}
	}
	if fails := count(ca, 500); fails < 35 || fails > 85 {
		t.Fatalf("%d failures of 200 at rate 0.3", fails)
	}
	_, all := testServer(t, Config{FaultFailRate: 1})
	if got := statuses(t, all.URL, 5); count(got, 500) != 5 {
		t.Fatalf("rate 1: %v", got)
	}
}

func TestFaultLatency(t *testing.T) {
	_, ts := testServer(t, Config{FaultLatencyMs: 40})
	start := time.Now()
	if code, _ := get(t, ts.URL+"/health"); code != 200 {
		t.Fatalf("status %d", code)
	}
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Fatalf("answered in %v, want >= 40ms", d)
	}
}

func TestFaultHang(t *testing.T) {
	s, ts := testServer(t, Config{FaultHang: true})
	client := &http.Client{Timeout: 100 * time.Millisecond}
	for _, path := range []string{"/generate", "/v1/chat/completions"} {
		resp, err := client.Post(ts.URL+path, "application/json", strings.NewReader(smallGenerate))
		if err == nil {
			resp.Body.Close()
			t.Fatalf("%s answered %d while hanging", path, resp.StatusCode)
		}
	}
	if _, err := client.Get(ts.URL + "/health_generate"); err == nil {
		t.Fatal("/health_generate answered while hanging")
	}
	if code, _ := get(t, ts.URL+"/health"); code != 200 {
		t.Fatalf("/health %d: the process is alive", code)
	}
	// Close releases hung requests: the connection drops at once.
	errc := make(chan error, 1)
	go func() {
		resp, err := http.Post(ts.URL+"/generate", "application/json", strings.NewReader(smallGenerate))
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	waitFor(t, func() bool { return s.Stats().HTTPRequests == 3 })
	s.Close()
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("a hung request got an answer")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not release the hung request")
	}
}

func TestFaultHealthFailsAfter(t *testing.T) {
	clk := newManualClock()
	_, ts := testServer(t, Config{FaultHealthFailAfter: 10}, WithClock(clk))
	if code, _ := get(t, ts.URL+"/health"); code != 200 {
		t.Fatalf("healthy server: %d", code)
	}
	clk.advance(10 * time.Second)
	for _, path := range []string{"/health", "/health_generate"} {
		if code, _ := get(t, ts.URL+path); code != http.StatusServiceUnavailable {
			t.Fatalf("%s after 10 s: %d", path, code)
		}
	}
	if code, _ := post(t, ts.URL+"/generate", smallGenerate); code != 200 {
		t.Fatalf("generation still works: %d", code)
	}
}

func TestAPIKey(t *testing.T) {
	_, ts := testServer(t, Config{APIKey: "sekret"})
	cases := []struct {
		name   string
		method string
		path   string
		header []string
		want   int
	}{
		{"no key", "POST", "/generate", nil, 401},
		{"wrong key", "POST", "/generate", []string{"Authorization", "Bearer nope"}, 401},
		{"right key", "POST", "/generate", []string{"Authorization", "Bearer sekret"}, 200},
		{"models need the key", "GET", "/v1/models", nil, 401},
		{"health is open", "GET", "/health", nil, 200},
		{"metrics are open", "GET", "/metrics", nil, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var code int
			if tc.method == "POST" {
				code, _ = post(t, ts.URL+tc.path, smallGenerate, tc.header...)
			} else {
				code, _ = get(t, ts.URL+tc.path)
			}
			if code != tc.want {
				t.Fatalf("status %d, want %d", code, tc.want)
			}
		})
	}
}

func TestPayloadLimit(t *testing.T) {
	_, ts := testServer(t, Config{MaxPayloadBytes: 100})
	big := `{"text": "` + strings.Repeat("x ", 100) + `"}`
	if code, body := post(t, ts.URL+"/generate", big); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d %s", code, body)
	}
	// Without a Content-Length the limit holds while reading.
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/generate", io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked body: status %d", resp.StatusCode)
	}
	if code, _ := post(t, ts.URL+"/generate", smallGenerate); code != 200 {
		t.Fatalf("small body: %d", code)
	}
}

func TestFaultCrashAfterN(t *testing.T) {
	c, err := StartCluster(context.Background(), Config{Workers: 2, FaultCrashAfterN: 2, FaultWorkers: []int{1}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Shutdown(context.Background())
	ok, dead := c.URLs()[0], c.URLs()[1]
	if got := statuses(t, dead, 2); got[0] != 200 || got[1] != 200 {
		t.Fatalf("before the crash: %v", got)
	}
	client := &http.Client{Timeout: 2 * time.Second}
	for _, path := range []string{"/health", "/generate"} {
		if resp, err := client.Get(dead + path); err == nil {
			resp.Body.Close()
			t.Fatalf("crashed server answered %s: %d", path, resp.StatusCode)
		}
	}
	if !c.Stats()[1].Crashed || c.Stats()[0].Crashed {
		t.Fatalf("stats %+v", c.Stats())
	}
	if got := statuses(t, ok, 3); count(got, 200) != 3 {
		t.Fatalf("healthy worker: %v", got)
	}
}

func TestFaultCrashWithoutListenerDropsRequests(t *testing.T) {
	_, ts := testServer(t, Config{FaultCrashAfterN: 1})
	if code, _ := post(t, ts.URL+"/generate", smallGenerate); code != 200 {
		t.Fatalf("first request: %d", code)
	}
	resp, err := http.Get(ts.URL + "/health")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("crashed handler answered %d", resp.StatusCode)
	}
}

func TestFaultWorkersSelectsTargets(t *testing.T) {
	c, err := StartCluster(context.Background(), Config{Workers: 3, FaultFailRate: 1, FaultWorkers: []int{1}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Shutdown(context.Background())
	for i, url := range c.URLs() {
		want := 200
		if i == 1 {
			want = 500
		}
		if code, _ := post(t, url+"/generate", smallGenerate); code != want {
			t.Fatalf("worker %d: %d, want %d", i, code, want)
		}
	}
}
