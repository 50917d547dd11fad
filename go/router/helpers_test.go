package router

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/sgl-project/sglang-router-go/go/h1"
	"github.com/sgl-project/sglang-router-go/go/proxy"
	"github.com/sgl-project/sglang-router-go/go/upstream"
	"github.com/sgl-project/sglang-router-go/go/worker"
	"github.com/sgl-project/sglang-router-go/go/worker/workertest"
)

// firstPolicy picks the first candidate, so tests know where a request goes.
type firstPolicy struct{ text bool }

func (firstPolicy) Name() string { return "first" }
func (firstPolicy) Pick(c []*worker.Worker, _ string) *worker.Worker {
	if len(c) == 0 {
		return nil
	}
	return c[0]
}
func (p firstPolicy) NeedsText() bool { return p.text }

// nopRecorder discards what the router records.
type nopRecorder struct{}

func (nopRecorder) RecordRequest(string, time.Duration)      {}
func (nopRecorder) RecordError(string, string)               {}
func (nopRecorder) RecordRetry(string)                       {}
func (nopRecorder) RecordTTFT(string, time.Duration)         {}
func (nopRecorder) RecordGenerate(time.Duration)             {}
func (nopRecorder) RecordProcessed(string)                   {}
func (nopRecorder) RecordPolicyDecision(string, string)      {}
func (nopRecorder) RecordRoutingDecision(string)             {}
func (nopRecorder) RecordAnswer(bool)                        {}
func (nopRecorder) SetRunning(string, int64)                 {}
func (nopRecorder) RecordPDRequest(string, time.Duration)    {}
func (nopRecorder) RecordPDPrefill(string)                   {}
func (nopRecorder) RecordPDDecode(string)                    {}
func (nopRecorder) RecordPDError(string)                     {}
func (nopRecorder) RecordPDPrefillError(string)              {}
func (nopRecorder) RecordPDDecodeError(string)               {}
func (nopRecorder) RecordPDStreamError(string)               {}
func (nopRecorder) RecordModelRequest(string, time.Duration) {}

func testOptions() Options {
	return Options{
		MaxPayloadSize:   1 << 20,
		RequestTimeout:   10 * time.Second,
		Retry:            RetryPolicy{MaxRetries: 2, Initial: time.Millisecond, Max: 5 * time.Millisecond},
		RequestIDHeaders: []string{"x-request-id", "x-correlation-id"},
		HealthTimeout:    time.Second,
	}
}

// fixture is a router in front of fake workers, served on a real socket.
type fixture struct {
	t       *testing.T
	rt      *Router
	pool    *Pool
	srv     *frontServer
	workers []*workertest.Worker
	admin   *fakeWorkers
}

// fakeWorkers stands in for the app behind the admin routes: it records
// the specs the router parsed and adds them to (or removes them from) the
// fixture's pools at once, or answers err when set. The app's tests cover
// the real admission (health wait, own address, DNS).
type fakeWorkers struct {
	pools []*Pool

	mu    sync.Mutex // guards the fields below
	specs []worker.Spec
	hows  []worker.Admission
	err   error
}

func (fw *fakeWorkers) AddWorker(_ context.Context, spec worker.Spec, how worker.Admission) error {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	fw.specs, fw.hows = append(fw.specs, spec), append(fw.hows, how)
	if fw.err != nil {
		return fw.err
	}
	for _, p := range fw.pools {
		if p.Role == spec.Role {
			w := worker.New(spec.URL, spec.Role, spec.BootstrapPort)
			w.SetHealthy(true)
			if err := p.Registry.Add(w); err != nil {
				return fmt.Errorf("%w: %s", err, spec.URL)
			}
			return nil
		}
	}
	return fmt.Errorf("%w: no %s pool", worker.ErrInvalidSpec, spec.Role)
}

func (fw *fakeWorkers) RemoveWorker(raw string) error {
	url, err := worker.NormalizeURL(raw)
	if err != nil {
		return err
	}
	for _, p := range fw.pools {
		if _, err := p.Registry.Remove(url); err == nil {
			return nil
		}
	}
	return fmt.Errorf("%w: %s", worker.ErrNotFound, url)
}

func newFixture(t *testing.T, opts Options, names ...string) *fixture {
	t.Helper()
	f := &fixture{t: t, pool: &Pool{Role: worker.Regular, Registry: worker.NewRegistry(), Policy: firstPolicy{}}}
	for _, n := range names {
		fw := workertest.New(t, n)
		f.workers = append(f.workers, fw)
		w := worker.New(fw.URL, worker.Regular, nil)
		w.SetHealthy(true)
		if err := f.pool.Registry.Add(w); err != nil {
			t.Fatal(err)
		}
	}
	client := &http.Client{Transport: proxy.NewTransport()}
	f.admin = &fakeWorkers{pools: []*Pool{f.pool}}
	f.rt = New(opts, Deps{Regular: f.pool, Client: client, Plain: upstream.New(upstream.Options{}), Recorder: nopRecorder{}, Log: zap.NewNop(), Workers: f.admin})
	f.srv = newFrontServer(t, f.rt)
	t.Cleanup(f.srv.Close)
	t.Cleanup(client.CloseIdleConnections)
	return f
}

// pdFixture is a PD router in front of fake prefill and decode workers.
type pdFixture struct {
	fixture
	prefill, decode []*workertest.Worker
}

func newPDFixture(t *testing.T, opts Options, prefill, decode int) *pdFixture {
	t.Helper()
	f := &pdFixture{fixture: fixture{t: t}}
	pools := [2]*Pool{}
	for i, role := range []worker.Role{worker.Prefill, worker.Decode} {
		pools[i] = &Pool{Role: role, Registry: worker.NewRegistry(), Policy: firstPolicy{}}
		n := []int{prefill, decode}[i]
		for j := 0; j < n; j++ {
			fw := workertest.New(t, fmt.Sprintf("%s%d", role, j))
			port := 8998 + j
			w := worker.New(fw.URL, role, &port)
			w.SetHealthy(true)
			_ = pools[i].Registry.Add(w)
			if role == worker.Prefill {
				f.prefill = append(f.prefill, fw)
			} else {
				f.decode = append(f.decode, fw)
			}
		}
	}
	client := &http.Client{Transport: proxy.NewTransport()}
	f.admin = &fakeWorkers{pools: pools[:]}
	f.rt = New(opts, Deps{Prefill: pools[0], Decode: pools[1], Client: client, Plain: upstream.New(upstream.Options{}), Recorder: nopRecorder{}, Log: zap.NewNop(), Workers: f.admin})
	f.srv = newFrontServer(t, f.rt)
	t.Cleanup(f.srv.Close)
	t.Cleanup(client.CloseIdleConnections)
	return f
}

func (f *fixture) do(method, path, body string, header ...string) (*http.Response, string) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, string(data)
}

func (f *fixture) worker(i int) *worker.Worker { return f.pool.Registry.Snapshot()[i] }

// waitFor polls cond for up to 2 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// frontServer serves a router on loopback with the router's own HTTP/1.1
// server (go/h1), as the app does, so the router's tests cover it too.
type frontServer struct {
	URL string
	srv *h1.Server
}

func newFrontServer(t *testing.T, h http.Handler) *frontServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &frontServer{URL: "http://" + ln.Addr().String(), srv: &h1.Server{Handler: h}}
	go func() { _ = s.srv.Serve(ln) }()
	return s
}

// Close closes the listener and every connection.
func (s *frontServer) Close() { _ = s.srv.Close() }

// CloseClientConnections closes every connection (and the listener).
func (s *frontServer) CloseClientConnections() { _ = s.srv.Close() }
