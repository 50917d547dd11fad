package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/sgl-project/sglang-router-go/go/sim"
	"github.com/sgl-project/sglang-router-go/go/workload"
)

// Engine is the simulated hardware of each worker, in simulated units
// (see sim.Config). Zero fields take DefaultEngine's values.
type Engine struct {
	MaxRunning          int     // running batch bound; beyond it requests queue
	PrefillTokensPerSec float64 // uncached prompt tokens per second
	DecodeTokensPerSec  float64 // per request, batch of one
	DecodeBatchSlope    float64 // each extra running request slows a step by this fraction
}

// DefaultEngine is a mid-size GPU serving a small model: fast prefill,
// 50 tokens/s per stream, decode steps 2% slower per extra batch member.
func DefaultEngine() Engine {
	return Engine{MaxRunning: 32, PrefillTokensPerSec: 8000, DecodeTokensPerSec: 50, DecodeBatchSlope: 0.02}
}

func (e Engine) withDefaults() Engine {
	d := DefaultEngine()
	if e.MaxRunning == 0 {
		e.MaxRunning = d.MaxRunning
	}
	if e.PrefillTokensPerSec == 0 {
		e.PrefillTokensPerSec = d.PrefillTokensPerSec
	}
	if e.DecodeTokensPerSec == 0 {
		e.DecodeTokensPerSec = d.DecodeTokensPerSec
	}
	if e.DecodeBatchSlope == 0 {
		e.DecodeBatchSlope = d.DecodeBatchSlope
	}
	return e
}

// testbed is one workload against one cluster shape; run replays it
// through one policy on a fresh cluster.
type testbed struct {
	wl          workload.Workload
	workers     int
	cacheTokens int // per worker: its share of the prefix cache
	// batchTokens is the KV of a full batch of mean requests, per worker.
	// Running requests' KV shares the engine's capacity with the prefix
	// cache (as in SGLang), so each engine gets cacheTokens + batchTokens:
	// an engine too small for its own batch would cache nothing whatever
	// the routing.
	batchTokens int
	engine      Engine
	timeScale   float64
	rate        float64 // requests per simulated second; 0 with timeScale 0
	arrival     string
	maxConc     int
	seed        uint64
}

func (s testbed) simConfig(workers, cacheTokens int, timeScale float64) sim.Config {
	return sim.Config{
		Workers:             workers,
		CacheCapacityTokens: cacheTokens,
		MaxRunningRequests:  s.engine.MaxRunning,
		PrefillTokensPerSec: s.engine.PrefillTokensPerSec,
		DecodeTokensPerSec:  s.engine.DecodeTokensPerSec,
		DecodeBatchSlope:    s.engine.DecodeBatchSlope,
		TimeScale:           timeScale,
		Seed:                s.seed,
	}
}

// run starts a cold cluster and replicas routers with policyName over it,
// replays the workload (each request to a replica drawn at random) and
// reads the engines' counters. onDone is called after every request.
func (s testbed) run(ctx context.Context, policyName string, replicas int, onDone func()) (RunResult, error) {
	cl, err := sim.StartCluster(ctx, s.simConfig(s.workers, s.cacheTokens+s.batchTokens, s.timeScale))
	if err != nil {
		return RunResult{}, err
	}
	defer shutdownCluster(cl)
	urls := make([]string, 0, replicas)
	for range max(replicas, 1) {
		rr, err := startRouter(ctx, cl.URLs(), policyName, s.timeScale)
		if err != nil {
			return RunResult{}, err
		}
		defer rr.stop()
		urls = append(urls, rr.url)
	}
	client := newClient(s.maxConc)
	defer client.CloseIdleConnections()
	rp := &replay{
		client: client, baseURLs: urls, seed: s.seed, reqs: s.wl.Requests, maxConc: s.maxConc, onDone: onDone,
		offsets: schedule(len(s.wl.Requests), s.rate, s.timeScale, s.arrival, s.seed),
	}
	samples, elapsed := rp.run(ctx)
	if err := ctx.Err(); err != nil {
		return RunResult{}, err
	}
	r := s.summarize(policyName, samples, elapsed, cl.Stats())
	r.Replicas = len(urls)
	return r, nil
}

func (s testbed) summarize(policyName string, samples []sample, elapsed time.Duration, stats []sim.Stats) RunResult {
	r := RunResult{Workload: s.wl.Name, Policy: policyName, Requests: len(samples), Elapsed: simulated(elapsed, s.timeScale)}
	for _, sm := range samples {
		if sm.err != nil {
			if r.Errors++; r.FirstErr == "" {
				r.FirstErr = sm.err.Error()
			}
			continue
		}
		r.TTFT = append(r.TTFT, simulated(sm.ttft, s.timeScale))
		r.E2E = append(r.E2E, simulated(sm.e2e, s.timeScale))
	}
	slices.Sort(r.TTFT)
	slices.Sort(r.E2E)
	var engineTTFT float64
	var served int64
	for _, st := range stats {
		served += st.Requests
		engineTTFT += st.TTFTSecondsSum
		r.PromptTokens += st.PromptTokens
		r.CachedTokens += st.CachedTokens
		r.OutputTokens += st.GenerationTokens
		r.PerWorker = append(r.PerWorker, st.Requests)
	}
	if served > 0 {
		r.EngineTTFT = simulated(time.Duration(engineTTFT/float64(served)*float64(time.Second)), s.timeScale)
	}
	return r
}

func shutdownCluster(cl *sim.Cluster) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = cl.Shutdown(ctx)
}

// runAll replays the testbed through each policy with each replica count
// in turn, on a fresh cluster and routers each time, showing progress on
// out. Runs with several replicas record the single-router hit rate of the
// same policy (replicas lists 1 first when it holds anything else).
func (s testbed) runAll(ctx context.Context, policies []string, replicas []int, pr *progressWriter, oracle float64) ([]RunResult, error) {
	var out []RunResult
	for _, pol := range policies {
		single := 0.0
		for _, n := range replicas {
			r, err := s.runOne(ctx, pol, n, pr)
			if err != nil {
				return out, err
			}
			r.OracleHitRate = oracle
			if n == 1 {
				single = r.HitRate()
			}
			r.SingleHitRate = single
			out = append(out, r)
		}
	}
	return out, nil
}

// runOne is one run of runAll, with its progress line.
func (s testbed) runOne(ctx context.Context, pol string, replicas int, pr *progressWriter) (RunResult, error) {
	var done atomic.Int64
	label := runLabel(pol, replicas)
	line := pr.start(fmt.Sprintf("%-14s %-26s", s.wl.Name, label), len(s.wl.Requests), &done)
	r, err := s.run(ctx, pol, replicas, func() { done.Add(1) })
	if err != nil {
		line.finish("failed: " + err.Error())
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return r, err
		}
		return r, fmt.Errorf("%s with %s: %w", s.wl.Name, label, err)
	}
	line.finish(fmt.Sprintf("%d requests, %d errors, hit rate %.1f%%, %s wall", r.Requests, r.Errors, 100*r.HitRate(), line.elapsed().Round(100*time.Millisecond)))
	return r, nil
}
