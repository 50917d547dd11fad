package worker

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestModelState(t *testing.T) {
	learned := New("http://a", Regular, nil).ExpectModel()
	if !learned.ModelPending() || learned.Available(time.Now()) {
		t.Fatal("a worker expecting its model is pending and not available")
	}
	learned.SetHealthy(true)
	learned.SetModel("m")
	if learned.ModelPending() || !learned.Available(time.Now()) || learned.ModelToLearn() {
		t.Fatal("a learned worker is routable")
	}
	learned.MarkModelStale()
	if !learned.ModelToLearn() || learned.Model() != "m" || !learned.Available(time.Now()) {
		t.Error("a stale model is asked for again and kept meanwhile")
	}
	given := New("http://b", Regular, nil)
	given.SetModel("g")
	given.MarkModelStale()
	if given.ModelToLearn() {
		t.Error("a model the operator gave is never asked for")
	}
}

func TestFetchModel(t *testing.T) {
	cases := []struct {
		name, models, info, want, err string
	}{
		{"v1/models first", `{"data":[{"id":"served"}]}`, `{"model_path":"/path"}`, "served", ""},
		{"model_path when v1/models names none", `{"data":[]}`, `{"model_path":"/path"}`, "/path", ""},
		{"neither", `{"data":[]}`, `{}`, "", "did not name its model"},
		{"a name that is no label", `{"data":[{"id":"bad\nname"}]}`, ``, "", "not printable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/v1/models":
					_, _ = w.Write([]byte(tc.models))
				case "/get_model_info":
					_, _ = w.Write([]byte(tc.info))
				}
			}))
			defer srv.Close()
			got, err := FetchModel(context.Background(), srv.Client(), srv.URL, nil, time.Second)
			if tc.err == "" && (err != nil || got != tc.want) || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("FetchModel = %q, %v; want %q (error %q)", got, err, tc.want, tc.err)
			}
		})
	}
}
