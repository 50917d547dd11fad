package sim

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// counters are a server's engine totals; they are the single source of
// both Stats() and the Prometheus counters.
type counters struct {
	requests         atomic.Int64 // sequences completed
	promptTokens     atomic.Int64 // prompt tokens of completed sequences
	cachedTokens     atomic.Int64 // of which found in the prefix cache
	generationTokens atomic.Int64 // output tokens of completed sequences
	aborted          atomic.Int64 // sequences abandoned (client gone, shutdown)
	rejected         atomic.Int64 // sequences refused with 503 (queue full)
	httpRequests     atomic.Int64 // generation HTTP requests received
	injectedFailures atomic.Int64 // 500s answered by fault injection
	rooms            atomic.Int64 // PD rooms prefilled (prefill) or served (decode)
	ttftNanos        atomic.Int64 // time to first token of completed sequences, summed
	e2eNanos         atomic.Int64 // latency of completed sequences, summed
}

// Stats is a snapshot of one server's engine counters and state.
type Stats struct {
	Index               int     `json:"index"`
	Role                string  `json:"role"`
	URL                 string  `json:"url,omitempty"` // set by Cluster
	Requests            int64   `json:"requests"`
	PromptTokens        int64   `json:"prompt_tokens"`
	CachedTokens        int64   `json:"cached_tokens"`
	GenerationTokens    int64   `json:"generation_tokens"`
	Aborted             int64   `json:"aborted"`
	Rejected            int64   `json:"rejected"`
	HTTPRequests        int64   `json:"http_requests"`
	InjectedFailures    int64   `json:"injected_failures"`
	Rooms               int64   `json:"rooms"`
	Running             int     `json:"running"`
	Queued              int     `json:"queued"`
	CacheTokens         int     `json:"cache_tokens"`
	CacheCapacityTokens int     `json:"cache_capacity_tokens"`
	Crashed             bool    `json:"crashed"`
	CacheHitRate        float64 `json:"cache_hit_rate"` // CachedTokens / PromptTokens
	// Sums over completed sequences (divide by Requests for the mean), in
	// real seconds: divide by TimeScale for simulated seconds.
	TTFTSecondsSum float64 `json:"ttft_seconds_sum"`
	E2ESecondsSum  float64 `json:"e2e_seconds_sum"`
}

// hitRate is cached / prompt tokens, 0 without traffic.
func hitRate(cached, prompt int64) float64 {
	if prompt == 0 {
		return 0
	}
	return float64(cached) / float64(prompt)
}

// observer holds the latency histograms.
type observer struct {
	ttft prometheus.Histogram
	e2e  prometheus.Histogram
}

// latencyBuckets cover both scaled-down and real-time runs (seconds).
var latencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160}

// newMetrics registers the server's families, in SGLang's names, on a
// private registry: counters and gauges read the engine's own state.
func newMetrics(model string, e *engine) (*prometheus.Registry, *observer) {
	labels := prometheus.Labels{"model_name": model}
	reg := prometheus.NewRegistry()
	counter := func(name, help string, v *atomic.Int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels},
			func() float64 { return float64(v.Load()) })
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: labels}, f)
	}
	hist := func(name, help string) prometheus.Histogram {
		return prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, ConstLabels: labels, Buckets: latencyBuckets})
	}
	obs := &observer{
		ttft: hist("sglang:time_to_first_token_seconds", "Time to first token (queue wait + prefill), in seconds."),
		e2e:  hist("sglang:e2e_request_latency_seconds", "End-to-end request latency, in seconds."),
	}
	st := e.stats
	reg.MustRegister(
		counter("sglang:prompt_tokens_total", "Number of prefill tokens processed.", &st.promptTokens),
		counter("sglang:cached_tokens_total", "Number of prompt tokens found in the prefix cache.", &st.cachedTokens),
		counter("sglang:generation_tokens_total", "Number of generation tokens processed.", &st.generationTokens),
		counter("sglang:num_requests_total", "Number of requests processed.", &st.requests),
		counter("sglang:num_aborted_requests_total", "Number of requests aborted.", &st.aborted),
		counter("sglang:num_rejected_requests_total", "Number of requests refused because the queue was full.", &st.rejected),
		gauge("sglang:num_running_reqs", "The number of running requests.", func() float64 { return float64(e.sched.load().Running) }),
		gauge("sglang:num_queue_reqs", "The number of requests in the waiting queue.", func() float64 { return float64(e.sched.load().Waiting) }),
		gauge("sglang:num_used_tokens", "Tokens of running and waiting requests.", func() float64 {
			l := e.sched.load()
			return float64(l.RunningTokens + l.WaitingTokens)
		}),
		gauge("sglang:token_usage", "Fraction of the prefix cache in use.", func() float64 {
			if c := e.cache.capacity(); c > 0 {
				return float64(e.cache.tokens()) / float64(c)
			}
			return 0
		}),
		gauge("sglang:cache_hit_rate", "Cached prompt tokens / prompt tokens since start.", func() float64 {
			return hitRate(st.cachedTokens.Load(), st.promptTokens.Load())
		}),
		gauge("sglang:max_running_requests", "The bound of the running batch.", func() float64 { return float64(e.cfg.MaxRunningRequests) }),
		obs.ttft, obs.e2e,
	)
	return reg, obs
}
