package router

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/sgl-project/sglang-router-go/go/h1"
	"github.com/sgl-project/sglang-router-go/go/metrics"
	"github.com/sgl-project/sglang-router-go/go/policy"
	"github.com/sgl-project/sglang-router-go/go/upstream"
	"github.com/sgl-project/sglang-router-go/go/worker"
)

// The wire benchmarks send requests through the router over real loopback
// sockets, as users do: a raw client and a raw worker that allocate
// nothing per request, so allocs/op is the router's own (server, routing,
// upstream client, metrics) per routed request.

// rawWorker answers every request on its connections with answer, after
// reading the request's body whole. It allocates nothing per request.
func rawWorker(b *testing.B, answer string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	resp := []byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(answer), answer))
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReaderSize(c, 64<<10)
				for {
					if _, err := readMessage(br); err != nil {
						return
					}
					if _, err := c.Write(resp); err != nil {
						return
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// readMessage reads one HTTP/1.1 message with a Content-Length body (or
// none) and returns the body's length; the body is discarded.
func readMessage(br *bufio.Reader) (int, error) {
	n := 0
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(line) <= 2 {
			break
		}
		if k, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
			for _, c := range bytes.TrimSpace(k) {
				n = n*10 + int(c-'0')
			}
		}
	}
	_, err := br.Discard(n)
	return n, err
}

// wireRouter serves a round_robin (or cache_aware) router with metrics on
// and info logging, in front of two raw workers, on a real socket, with
// the router's own HTTP/1.1 server (h1).
func wireRouter(b *testing.B, pol policy.Policy) string { return wireRouterOn(b, pol, true) }

// wireRouterOn is wireRouter on h1 or, for comparison, on net/http's server.
func wireRouterOn(b *testing.B, pol policy.Policy, ownServer bool) string {
	pool := &Pool{Role: worker.Regular, Registry: worker.NewRegistry(), Policy: pol}
	for range 2 {
		w := worker.New(rawWorker(b, `{"text":"ok","meta_info":{"prompt_tokens":5,"completion_tokens":1}}`), worker.Regular, nil)
		w.SetHealthy(true)
		_ = pool.Registry.Add(w)
	}
	log := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(io.Discard), zapcore.InfoLevel))
	opts := testOptions()
	opts.MaxAnswerInsert = 64 << 10 // answers recorded, as by default
	opts.MaxPayloadSize = 8 << 20
	rt := New(opts, Deps{Regular: pool, Client: &http.Client{}, Plain: upstream.New(upstream.Options{}), Recorder: metrics.New(true), Log: log})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	if ownServer {
		srv := &h1.Server{Handler: rt}
		go func() { _ = srv.Serve(ln) }()
		b.Cleanup(func() { srv.Close() })
	} else {
		srv := &http.Server{Handler: rt}
		go func() { _ = srv.Serve(ln) }()
		b.Cleanup(func() { srv.Close() })
	}
	return ln.Addr().String()
}

// rawClient sends pre-formatted requests over one keep-alive connection.
type rawClient struct {
	c  net.Conn
	br *bufio.Reader
}

func dialRaw(b *testing.B, addr string) *rawClient {
	rc, err := dial(b, addr)
	if err != nil {
		b.Fatal(err)
	}
	return rc
}

// dial is dialRaw for any goroutine (the caller reports the error).
func dial(b *testing.B, addr string) (*rawClient, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	b.Cleanup(func() { c.Close() })
	return &rawClient{c: c, br: bufio.NewReaderSize(c, 64<<10)}, nil
}

var errStatus = errors.New("router answered other than 200")

// do sends req and reads the answer whole.
func (rc *rawClient) do(req []byte) error {
	if _, err := rc.c.Write(req); err != nil {
		return err
	}
	line, err := rc.br.Peek(12)
	if err != nil {
		return err
	}
	if !bytes.Equal(line[9:12], []byte("200")) {
		return errStatus
	}
	_, err = readMessage(rc.br)
	return err
}

func formatRequest(path, body string) []byte {
	return []byte(fmt.Sprintf("POST %s HTTP/1.1\r\nHost: router\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		path, len(body), body))
}

// BenchmarkWireSmallGenerate is one small /generate routed over real
// sockets; allocs/op is the router's whole per-request allocation.
// It runs on the router's server (h1) and on net/http's, for comparison.
func BenchmarkWireSmallGenerate(b *testing.B) {
	for _, c := range []struct {
		name string
		own  bool
	}{{"h1", true}, {"net_http", false}} {
		b.Run(c.name, func(b *testing.B) {
			rc := dialRaw(b, wireRouterOn(b, policy.NewRoundRobin(false), c.own))
			req := formatRequest("/generate", `{"text":"What is the capital of France?","sampling_params":{"max_new_tokens":8}}`)
			b.ReportAllocs()
			for b.Loop() {
				if err := rc.do(req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// namedPolicy is a policy of a benchmark, by the name of its sub-benchmark.
type namedPolicy struct {
	name string
	pol  policy.Policy
}

// largePromptPolicies are the two policies the large-prompt benchmarks
// compare: round_robin, and cache_aware, which reads the text.
func largePromptPolicies() []namedPolicy {
	return []namedPolicy{
		{"round_robin", policy.NewRoundRobin(false)},
		{"cache_aware", policy.NewCacheAware(policy.DefaultOptions())},
	}
}

// BenchmarkWireLargePrompt is a 400 KB prompt routed over real sockets,
// round_robin (the body is not scanned for text) and cache_aware (it is,
// and the prefix tree matches it).
func BenchmarkWireLargePrompt(b *testing.B) {
	body := `{"text":"` + strings.Repeat("lorem ipsum dolor sit amet ", 400<<10/27) + `","sampling_params":{"max_new_tokens":1}}`
	req := formatRequest("/generate", body)
	for _, c := range largePromptPolicies() {
		b.Run(c.name, func(b *testing.B) {
			rc := dialRaw(b, wireRouter(b, c.pol))
			b.SetBytes(int64(len(req)))
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				if err := rc.do(req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWireLargePrompts is bench-proxy's 400 KB scenario in-process:
// four connections cycle 16 distinct prompts of random words (so the
// cache_aware tree holds 6.4 MB, more than a core's cache, and every
// request after the first round is a full match), round_robin against
// cache_aware.
func BenchmarkWireLargePrompts(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	reqs := make([][]byte, 16)
	for i := range reqs {
		var sb strings.Builder
		for sb.Len() < 400<<10 {
			fmt.Fprintf(&sb, "w%d ", rng.IntN(50000))
		}
		reqs[i] = formatRequest("/generate", `{"text":"`+sb.String()[:400<<10]+`","sampling_params":{"max_new_tokens":1}}`)
	}
	for _, c := range largePromptPolicies() {
		b.Run(c.name, func(b *testing.B) {
			addr := wireRouter(b, c.pol)
			var seq atomic.Int64
			b.SetBytes(int64(len(reqs[0])))
			b.ReportAllocs()
			b.SetParallelism(max(1, 4/runtime.GOMAXPROCS(0)))
			defer reportCPU(b)()
			b.RunParallel(func(pb *testing.PB) {
				rc, err := dial(b, addr)
				if err != nil {
					b.Error(err)
					return
				}
				for i := int(seq.Add(5)); pb.Next(); i++ {
					if err := rc.do(reqs[i%len(reqs)]); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// reportCPU starts counting the process's CPU time; the function it
// returns reports it per op as cpu-µs/op (client and workers included:
// with requests in parallel, ns/op is wall time, and CPU is what the
// policies are compared on).
func reportCPU(b *testing.B) func() {
	start := processCPU()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64((processCPU()-start).Microseconds())/float64(b.N), "cpu-µs/op")
		}
	}
}

// processCPU is the user and system time the process used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
