package worker

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func ranksOf(base string, n int) []*Worker {
	ws := make([]*Worker, n)
	for r := range ws {
		ws[r] = NewRank(base, r, n, Regular, nil)
	}
	return ws
}

func TestRankWorkerIdentity(t *testing.T) {
	w := NewRank("http://h:1", 2, 4, Regular, nil)
	if rank, ok := w.DPRank(); w.URL() != "http://h:1@2" || w.BaseURL() != "http://h:1" || !ok || rank != 2 || w.DPSize() != 4 {
		t.Fatalf("URL %s base %s rank %d,%v size %d", w.URL(), w.BaseURL(), rank, ok, w.DPSize())
	}
	whole := New("http://h:1", Regular, nil)
	if _, ok := whole.DPRank(); ok || whole.BaseURL() != whole.URL() || whole.DPSize() != 0 {
		t.Fatal("a whole server has no rank")
	}
}

func TestRemoveServerRemovesEveryRank(t *testing.T) {
	r := NewRegistry()
	var removed []string
	r.OnRemove(func(w *Worker) { removed = append(removed, w.URL()) })
	for _, w := range append(ranksOf("http://a:1", 3), New("http://b:1", Regular, nil)) {
		if err := r.Add(w); err != nil {
			t.Fatal(err)
		}
	}
	if !r.HasServer("http://a:1") || r.HasServer("http://c:1") {
		t.Fatal("HasServer")
	}
	ws, err := r.RemoveServer("http://a:1")
	if err != nil || len(ws) != 3 || len(removed) != 3 || removed[2] != "http://a:1@2" {
		t.Fatalf("removed %v (%v), listeners saw %v", ws, err, removed)
	}
	if left := r.Snapshot(); len(left) != 1 || left[0].URL() != "http://b:1" {
		t.Fatalf("left %v", left)
	}
	if _, err := r.RemoveServer("http://a:1"); err != ErrNotFound {
		t.Fatalf("second remove: %v", err)
	}
}

func TestCheckerProbesAServerOnceForAllItsRanks(t *testing.T) {
	var probes atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { probes.Add(1) }))
	t.Cleanup(srv.Close)
	r := NewRegistry()
	for _, w := range ranksOf(srv.URL, 4) {
		_ = r.Add(w)
	}
	c := &Checker{Client: srv.Client(), Timeout: 5 * time.Second, FailureThreshold: 1, SuccessThreshold: 1}
	c.CheckAll(context.Background(), r)
	if n := probes.Load(); n != 1 {
		t.Fatalf("%d probes for one server's 4 ranks, want 1", n)
	}
	for _, w := range r.Snapshot() {
		if !w.Healthy() {
			t.Fatalf("%s not marked healthy", w.URL())
		}
	}
}

func TestParseRankLoad(t *testing.T) {
	list := []byte(`[{"dp_rank":0,"num_reqs":3},{"dp_rank":1,"num_reqs":5}]`)
	for _, tc := range []struct {
		name string
		data []byte
		rank int
		want int64
	}{
		{"its own entry", list, 1, 5},
		{"whole server sums", list, -1, 8},
		{"rank not listed: the server's figure", list, 7, 8},
		{"object answer: the server's figure", []byte(`{"num_reqs":4}`), 1, 4},
		{"garbage", []byte(`nope`), 0, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ParseRankLoad(tc.data, tc.rank); got != tc.want {
				t.Fatalf("got %d, want %d", got, tc.want)
			}
		})
	}
}

func TestParseRankLoadWaiting(t *testing.T) {
	list := []byte(`[{"dp_rank":0,"num_reqs":40,"num_waiting_reqs":8},{"dp_rank":1,"num_reqs":5,"num_waiting_reqs":0}]`)
	for _, tc := range []struct {
		name               string
		data               []byte
		rank               int
		wantLoad, wantWait int64
	}{
		{"its own entry", list, 0, 40, 8},
		{"a rank with room", list, 1, 5, 0},
		{"whole server sums", list, -1, 45, 8},
		{"object answer", []byte(`{"num_reqs":36,"num_waiting_reqs":4,"load":9000}`), -1, 36, 4},
		{"older answer without the field", []byte(`{"load":9000}`), -1, 9000, 0},
		{"negative figure", []byte(`{"num_reqs":3,"num_waiting_reqs":-2}`), -1, 3, 0},
		{"no load figure: waiting unknown too", []byte(`{"num_waiting_reqs":4}`), -1, -1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if load, wait := parseRankLoad(tc.data, tc.rank); load != tc.wantLoad || wait != tc.wantWait {
				t.Fatalf("got %d, %d; want %d, %d", load, wait, tc.wantLoad, tc.wantWait)
			}
		})
	}
}

func TestFetchDPSize(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int
		want       int
		errHas     string
	}{
		{"reported", `{"dp_size":4,"tp_size":8}`, 200, 4, ""},
		{"missing", `{"tp_size":8}`, 200, 0, "no dp_size"},
		{"zero", `{"dp_size":0}`, 200, 0, "outside"},
		{"huge", `{"dp_size":1000000}`, 200, 0, "outside"},
		{"not a number", `{"dp_size":"4"}`, 200, 0, "get_server_info"},
		{"not JSON", `<html>`, 200, 0, "get_server_info"},
		{"error status", `{}`, 500, 0, "500"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var auth string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				auth = r.Header.Get("Authorization")
				if r.URL.Path != "/get_server_info" {
					http.NotFound(w, r)
					return
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			got, err := FetchDPSize(context.Background(), srv.Client(), srv.URL, http.Header{"Authorization": {"Bearer k"}}, 5*time.Second)
			if tc.errHas == "" {
				if err != nil || got != tc.want || auth != "Bearer k" {
					t.Fatalf("got %d, %v (auth %q); want %d", got, err, auth, tc.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Fatalf("err %v, want it to mention %q", err, tc.errHas)
			}
		})
	}
}

// TestPollLoadsReadsWaitingRequests: one /get_load per server gives each
// data-parallel rank its load, and the batch it is full at when requests
// wait for it.
func TestPollLoadsReadsWaitingRequests(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/get_load" {
			_, _ = w.Write([]byte(`[{"dp_rank":0,"num_reqs":40,"num_waiting_reqs":8},{"dp_rank":1,"num_reqs":5,"num_waiting_reqs":0}]`))
		}
	}))
	defer srv.Close()
	reg := NewRegistry()
	r0, r1 := NewRank(srv.URL, 0, 2, Regular, nil), NewRank(srv.URL, 1, 2, Regular, nil)
	for _, w := range []*Worker{r0, r1} {
		if err := reg.Add(w); err != nil {
			t.Fatal(err)
		}
	}
	PollLoads(context.Background(), srv.Client(), nil, 5*time.Second, reg)
	h0, ok0 := r0.Headroom()
	_, ok1 := r1.Headroom()
	if r0.PolledLoad() != 40 || h0 != -8 || !ok0 || r1.PolledLoad() != 5 || ok1 {
		t.Fatalf("rank 0: %d, headroom %d %v; rank 1: %d, headroom known %v; want 40, -8 true (full at 32); 5, false",
			r0.PolledLoad(), h0, ok0, r1.PolledLoad(), ok1)
	}
}
