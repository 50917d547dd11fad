package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server is one simulated SGLang server: an engine (prefix cache, batch,
// latency model) behind SGLang's and OpenAI's HTTP APIs. It holds no
// listener: mount Handler() anywhere (httptest, a Cluster). Safe for
// concurrent use.
type Server struct {
	cfg    Config
	index  int
	faulty bool // the Fault* fields apply to this server
	live   atomic.Pointer[LiveFaults]
	eng    *engine
	reg    *prometheus.Registry
	roomc  *roomClient
	trans  *http.Transport // decode -> prefill bootstrap queries
	start  time.Time
	mux    http.Handler

	// bootstrapPort is the port a Cluster serves BootstrapHandler on (0
	// when none); written before serving starts, read-only afterwards.
	bootstrapPort int

	// ctx is cancelled by Close: every request of this server derives
	// from it through withBase, so Close aborts them all.
	ctx    context.Context
	cancel context.CancelFunc

	inflight atomic.Int64 // handlers running, API and bootstrap
	crashed  atomic.Bool
	crashMu  sync.Mutex
	onCrash  func() // set once by Cluster before serving; guarded by crashMu
	genCount atomic.Int64
	ids      atomic.Uint64

	rngMu sync.Mutex
	rng   *rand.Rand // fault_fail_rate draws; guarded by rngMu

	stored  storedResponses // /v1/responses answers, for retrieval by id
	aborted abortLog        // rids named by /abort_request
}

// Option customises a Server.
type Option func(*Server)

// WithClock makes the server measure and sleep with c (tests inject a
// manual clock); the default is RealClock.
func WithClock(c Clock) Option {
	return func(s *Server) { s.eng.clock = c }
}

// NewServer builds server number index of cfg (the index picks its ports
// in a cluster, seeds its randomness and decides whether faults apply).
// cfg's zero fields take their defaults; an invalid cfg is an error.
func NewServer(cfg Config, index int, opts ...Option) (*Server, error) {
	if len(cfg.Models) > 0 && index >= 0 {
		cfg.Model = cfg.Models[index%len(cfg.Models)]
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, index: index, faulty: cfg.faultsFor(index)}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.eng = &engine{
		cfg:   cfg,
		role:  cfg.Role,
		clock: RealClock{},
		tok:   newTokenizer(cfg.Tokenizer, cfg.VocabSize),
		cache: newRankCaches(cfg.DPSize, cfg.CacheCapacityTokens, cfg.BlockSize),
		sched: newScheduler(cfg.MaxRunningRequests, cfg.MaxQueue),
		stats: &counters{},
		rooms: newRoomRegistry(),
	}
	s.reg, s.eng.obs = newMetrics(cfg.Model, s.eng)
	s.trans = &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}
	s.roomc = &roomClient{
		http:    &http.Client{Transport: s.trans},
		timeout: time.Duration(cfg.BootstrapTimeoutMs * float64(time.Millisecond)),
	}
	s.rng = rand.New(rand.NewPCG(cfg.Seed, uint64(index)))
	for _, o := range opts {
		o(s)
	}
	s.start = s.eng.clock.Now()
	s.mux = s.routes()
	return s, nil
}

// Handler serves the server's HTTP API.
func (s *Server) Handler() http.Handler { return s.mux }

// BootstrapHandler serves the PD bootstrap queries of a prefill server
// (see bootstrap.go); a Cluster mounts it on the bootstrap port.
func (s *Server) BootstrapHandler() http.Handler { return s.bootstrapHandler() }

// Close aborts every request in flight (hung ones included) and drops idle
// bootstrap connections. The handler keeps answering new requests.
func (s *Server) Close() {
	s.cancel()
	s.trans.CloseIdleConnections()
}

// idle reports whether no handler of s is running.
func (s *Server) idle() bool { return s.inflight.Load() == 0 }

// Stats returns the server's counters and state now.
func (s *Server) Stats() Stats {
	st, l := s.eng.stats, s.eng.sched.load()
	return Stats{
		Index:               s.index,
		Role:                s.cfg.Role,
		Requests:            st.requests.Load(),
		PromptTokens:        st.promptTokens.Load(),
		CachedTokens:        st.cachedTokens.Load(),
		GenerationTokens:    st.generationTokens.Load(),
		Aborted:             st.aborted.Load(),
		Rejected:            st.rejected.Load(),
		HTTPRequests:        st.httpRequests.Load(),
		InjectedFailures:    st.injectedFailures.Load(),
		Rooms:               st.rooms.Load(),
		Running:             l.Running,
		Queued:              l.Waiting,
		CacheTokens:         s.eng.cache.tokens(),
		CacheCapacityTokens: s.eng.cache.capacity(),
		Crashed:             s.crashed.Load(),
		CacheHitRate:        hitRate(st.cachedTokens.Load(), st.promptTokens.Load()),
		TTFTSecondsSum:      time.Duration(st.ttftNanos.Load()).Seconds(),
		E2ESecondsSum:       time.Duration(st.e2eNanos.Load()).Seconds(),
	}
}

// Registry is the server's private Prometheus registry (served on /metrics).
func (s *Server) Registry() *prometheus.Registry { return s.reg }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /generate", s.generation(s.parseGenerate))
	mux.Handle("POST /v1/chat/completions", s.generation(s.parseChat))
	mux.Handle("POST /v1/completions", s.generation(s.parseCompletion))
	mux.HandleFunc("GET /health", s.health)
	mux.HandleFunc("GET /health_generate", s.healthGenerate)
	mux.HandleFunc("GET /get_server_info", s.serverInfo)
	mux.HandleFunc("GET /server_info", s.serverInfo)
	mux.HandleFunc("GET /get_model_info", s.modelInfo)
	mux.HandleFunc("GET /model_info", s.modelInfo)
	mux.HandleFunc("GET /v1/models", s.models)
	mux.HandleFunc("GET /get_load", s.getLoad)
	mux.HandleFunc("/flush_cache", s.flushCache)
	mux.HandleFunc("/sim/faults", s.faults)
	s.moreRoutes(mux)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	return s.guard(mux)
}

// withBase derives a request context that also ends when s is closed.
func (s *Server) withBase(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.ctx, cancel)
	return ctx, func() { stop(); cancel() }
}

// newID returns a fresh response id, unique per server.
func (s *Server) newID() string {
	n := s.ids.Add(1)
	return fmt.Sprintf("%016x", mix64(s.cfg.Seed^uint64(s.index)<<48^n))
}

// Model is the model the server serves.
func (s *Server) Model() string { return s.cfg.Model }
