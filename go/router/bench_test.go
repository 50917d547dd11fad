package router

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/sgl-project/sglang-router-go/go/metrics"
	"github.com/sgl-project/sglang-router-go/go/policy"
	"github.com/sgl-project/sglang-router-go/go/worker"
)

// cannedWorker answers every request in memory, so a benchmark measures the
// router's own work on the request path and nothing of the network.
type cannedWorker struct{ body string }

func (c cannedWorker) RoundTrip(r *http.Request) (*http.Response, error) {
	_, _ = io.Copy(io.Discard, r.Body)
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(c.body)), ContentLength: int64(len(c.body)), Request: r}, nil
}

func benchRouter(b *testing.B, rec Recorder, level zapcore.Level, pol policy.Policy) *Router {
	pool := &Pool{Role: worker.Regular, Registry: worker.NewRegistry(), Policy: pol}
	for _, u := range []string{"http://w0", "http://w1", "http://w2", "http://w3"} {
		w := worker.New(u, worker.Regular, nil)
		w.SetHealthy(true)
		_ = pool.Registry.Add(w)
	}
	log := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(io.Discard), level))
	return New(testOptions(), Deps{Regular: pool, Client: &http.Client{Transport: cannedWorker{`{"text":"ok","meta_info":{}}`}},
		Recorder: rec, Log: log})
}

// BenchmarkRouterGenerate is the router's own cost for a small /generate:
// with metrics and info logging (the default) and without either, so their
// share of the request path shows.
func BenchmarkRouterGenerate(b *testing.B) {
	body := `{"text":"What is the capital of France?","sampling_params":{"max_new_tokens":8}}`
	for _, c := range []struct {
		name  string
		rec   Recorder
		level zapcore.Level
		pol   policy.Policy
	}{
		{"round_robin/metrics+info", metrics.New(true), zapcore.InfoLevel, policy.NewRoundRobin(false)},
		{"round_robin/quiet", metrics.New(false), zapcore.ErrorLevel, policy.NewRoundRobin(false)},
		{"cache_aware/metrics+info", metrics.New(true), zapcore.InfoLevel, policy.NewCacheAware(policy.DefaultOptions())},
	} {
		b.Run(c.name, func(b *testing.B) {
			rt := benchRouter(b, c.rec, c.level, c.pol)
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("POST", "/generate", strings.NewReader(body))
				rec := httptest.NewRecorder()
				rt.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatal(rec.Code, rec.Body.String())
				}
			}
		})
	}
}

// BenchmarkRouterTwoModels is BenchmarkRouterGenerate's round_robin case
// with the four workers split between two models, each request naming
// one: what resolving the model and picking within its workers cost.
func BenchmarkRouterTwoModels(b *testing.B) {
	rt := benchRouter(b, metrics.New(true), zapcore.InfoLevel, policy.NewRoundRobin(false))
	rt.regular.NewPolicy = func(string) policy.Policy { return policy.NewRoundRobin(false) }
	for i, w := range rt.regular.Registry.Snapshot() {
		w.SetModel([]string{"alpha", "beta"}[i%2])
	}
	bodies := []string{
		`{"model":"alpha","text":"What is the capital of France?","sampling_params":{"max_new_tokens":8}}`,
		`{"model":"beta","text":"What is the capital of France?","sampling_params":{"max_new_tokens":8}}`,
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		req := httptest.NewRequest("POST", "/generate", strings.NewReader(bodies[i%2]))
		rec := httptest.NewRecorder()
		rt.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code, rec.Body.String())
		}
		i++
	}
}

// BenchmarkReadBody is the cost of reading a request body of each size
// into pooled chunks and one exact-size slice, under the router-wide budget.
func BenchmarkReadBody(b *testing.B) {
	for _, size := range []int{100, 16 << 10, 1 << 20} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			rt := benchRouter(b, nopRecorder{}, zapcore.ErrorLevel, policy.NewRoundRobin(false))
			rt.bodies = &bodyBudget{max: 1 << 30}
			body := strings.Repeat("a", size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("POST", "/generate", strings.NewReader(body))
				got, reserved, err := rt.readBody(httptest.NewRecorder(), req)
				rt.bodies.give(reserved)
				if err != nil || len(got) != size {
					b.Fatal(err, len(got))
				}
			}
		})
	}
}
