package sim

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

func TestLiveFaultsSwitchAtRunTime(t *testing.T) {
	s, ts := testServer(t, Config{})
	setFaults := func(body string) int {
		code, _ := post(t, ts.URL+"/sim/faults", body)
		return code
	}
	if got := statuses(t, ts.URL, 5); count(got, 200) != 5 {
		t.Fatalf("healthy server: %v", got)
	}
	if code := setFaults(`{"fail_rate": 1}`); code != 200 {
		t.Fatalf("set fail_rate: %d", code)
	}
	if got := statuses(t, ts.URL, 5); count(got, 500) != 5 {
		t.Fatalf("fail_rate 1: %v", got)
	}
	setFaults(`{"fail_rate": 0.5}`)
	if got := statuses(t, ts.URL, 60); count(got, 500) == 0 || count(got, 200) == 0 || count(got, 200)+count(got, 500) != 60 {
		t.Fatalf("fail_rate 0.5: %d ok, %d failed", count(got, 200), count(got, 500))
	}

	setFaults(`{"hang": true}`)
	ctx, cancel := context.WithCancel(context.Background())
	answered := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+"/generate", strings.NewReader(smallGenerate))
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		answered <- err
	}()
	before := s.Stats().HTTPRequests
	waitFor(t, func() bool { return s.Stats().HTTPRequests > before })
	if code, _ := get(t, ts.URL+"/health"); code != 200 {
		t.Fatalf("/health %d while hanging: the process is alive", code)
	}
	select {
	case err := <-answered:
		t.Fatalf("a hung server answered (err %v)", err)
	default:
	}
	cancel()
	if err := <-answered; err == nil {
		t.Fatal("the hung request got an answer")
	}
	if code := setFaults(`{}`); code != 200 {
		t.Fatalf("reset: %d", code)
	}
	if got := statuses(t, ts.URL, 3); count(got, 200) != 3 {
		t.Fatalf("after reset: %v", got)
	}
}

func TestLiveFaultsRefuseBadInput(t *testing.T) {
	_, ts := testServer(t, Config{})
	for _, body := range []string{`{"fail_rate": 2}`, `{"fail_rate": -1}`, `{"hang": "yes"}`, `{"nope": 1}`, `not json`, `{"hang":` + strings.Repeat(" ", 8<<10) + `true}`} {
		if code, _ := post(t, ts.URL+"/sim/faults", body); code != http.StatusBadRequest {
			t.Errorf("%.30q: %d, want 400", body, code)
		}
	}
	code, got := get(t, ts.URL+"/sim/faults")
	if code != 200 || !strings.Contains(string(got), `"hang":false`) {
		t.Fatalf("GET after refused updates: %d %s", code, got)
	}
}
