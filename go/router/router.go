// Package router is the HTTP front end: it maps each route to its handler,
// reads and checks the request, picks a worker through a Pool, forwards with
// retries and maps failures to statuses. Admin routes (health, workers,
// loads) live here too, and the keys that guard routes (auth.go).
package router

import (
	"context"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/sgl-project/sglang-router-go/go/mono"
	"github.com/sgl-project/sglang-router-go/go/proxy"
	"github.com/sgl-project/sglang-router-go/go/worker"
)

// Options are the router's request-path settings, taken from config.Config.
type Options struct {
	MaxPayloadSize int64
	// BodyReadTimeout bounds reading one request body (408 past it).
	BodyReadTimeout time.Duration
	// MaxBufferedBody caps the bytes of request bodies buffered at once
	// across all requests (429 past it); <= 0: no cap.
	MaxBufferedBody  int64
	RequestTimeout   time.Duration
	Retry            RetryPolicy
	RequestIDHeaders []string // lower-case header names, first present wins
	// SessionHeader names the header holding a session key; "" for none.
	SessionHeader string
	// DecisionHeaders adds HeaderWorker and HeaderReason to routed responses.
	DecisionHeaders    bool
	APIKey             string // sent to workers as a bearer token when the client sent none
	CORSAllowedOrigins []string
	MaxConcurrent      int // <= 0: unlimited
	QueueSize          int
	QueueTimeout       time.Duration
	RateLimit          float64 // admissions per second; <= 0: no rate limit
	// HealthTimeout bounds the router's own calls to workers (/get_loads,
	// /flush_cache).
	HealthTimeout time.Duration
	// AdminAPIKey, when set, is the bearer token the admin routes demand.
	AdminAPIKey string
	// ClientAPIKeys, when set, are the bearer tokens the request routes
	// accept; the client's token is then never forwarded to workers.
	ClientAPIKeys []string
	// DefaultModel, when set, serves requests that name no model (see
	// resolveModel).
	DefaultModel string
	// MaxAnswerInsert is the longest answer, in bytes, recorded in the
	// prefix tree of the worker that wrote it (answers.go); 0: none.
	MaxAnswerInsert int
}

// Recorder receives what the router observes; *metrics.Metrics implements it.
type Recorder interface {
	RecordRequest(route string, d time.Duration)
	RecordModelRequest(model string, d time.Duration)
	RecordError(route, errorType string)
	RecordRetry(route string)
	RecordTTFT(route string, d time.Duration)
	RecordGenerate(d time.Duration)
	RecordProcessed(worker string)
	RecordPolicyDecision(policy, worker string)
	RecordRoutingDecision(reason string)
	SetRunning(worker string, n int64)
	RecordPDRequest(route string, d time.Duration)
	RecordPDPrefill(worker string)
	RecordPDDecode(worker string)
	RecordPDError(errorType string)
	RecordPDPrefillError(worker string)
	RecordPDDecodeError(worker string)
	RecordPDStreamError(worker string)
	// RecordAnswer counts an answer that was read for recording in a
	// prefix tree: recorded, or not (no text, too long, cut off).
	RecordAnswer(recorded bool)
}

// Router serves the router's HTTP API. It is safe for concurrent use.
type Router struct {
	opts    Options
	regular *Pool // nil in PD mode
	prefill *Pool // nil in regular mode
	decode  *Pool
	proxy   *proxy.Proxy
	rec     Recorder
	log     *zap.Logger
	// workers serves /add_worker and /remove_worker (the app).
	workers    Workers
	admin      keyring // empty: admin routes open
	clients    keyring // empty: request routes open
	ids        *idSource
	bodies     *bodyBudget
	limiter    *limiter
	routes     map[string]route
	textNeeded bool     // some pool's policy routes on request text
	bearer     string   // "Bearer <APIKey>", "" without a key
	idHeaders  []string // RequestIDHeaders in canonical form, so a lookup allocates nothing
	allPools   []*Pool  // regular, or prefill and decode
	rids       *rids
	respIDs    *respIDs
}

// Workers adds and removes workers for the admin routes. The app
// implements it: it owns how a worker joins (its pool, the health wait, the
// checks against the router's own address and unresolvable hosts). Errors
// carry the worker package's classes (worker.ErrInvalidSpec, ...).
type Workers interface {
	AddWorker(ctx context.Context, spec worker.Spec, how worker.Admission) error
	RemoveWorker(rawURL string) error
}

// Deps are the collaborators a Router is built from.
type Deps struct {
	Regular *Pool // regular mode
	Prefill *Pool // PD mode
	Decode  *Pool
	Client  *http.Client
	// Plain, when set, forwards to http:// workers instead of Client.
	Plain    proxy.Sender
	Recorder Recorder
	Log      *zap.Logger
	Workers  Workers
}

// New builds a Router.
func New(opts Options, d Deps) *Router {
	rt := &Router{
		opts: opts, regular: d.Regular, prefill: d.Prefill, decode: d.Decode,
		proxy: &proxy.Proxy{Client: d.Client, Plain: d.Plain}, rec: d.Recorder, log: d.Log, workers: d.Workers,
		admin: newKeyring(opts.AdminAPIKey), clients: newKeyring(opts.ClientAPIKeys...),
		ids: newIDSource(), limiter: newLimiter(opts), rids: newRIDs(), respIDs: newRespIDs(),
		bodies: &bodyBudget{max: opts.MaxBufferedBody},
	}
	if opts.APIKey != "" {
		rt.bearer = "Bearer " + opts.APIKey
	}
	for _, h := range opts.RequestIDHeaders {
		rt.idHeaders = append(rt.idHeaders, http.CanonicalHeaderKey(h))
	}
	rt.allPools = []*Pool{rt.regular}
	if rt.PD() {
		rt.allPools = []*Pool{rt.prefill, rt.decode}
	}
	rt.routes = rt.routeTable()
	for _, p := range rt.pools() {
		rt.textNeeded = rt.textNeeded || p.Policy.NeedsText()
	}
	return rt
}

// PD reports whether the router runs in prefill/decode mode.
func (rt *Router) PD() bool { return rt.prefill != nil }

// handler serves one route and returns the status it answered with
// (statusClientGone when the client left first); a forward packs its
// outcome into it (see outcome.reply).
type handler func(w http.ResponseWriter, r *http.Request, id string) int

// route is one entry of the route table.
type route struct {
	label   string // the route label of its metrics: the path, or its pattern
	method  string // "" = any
	limited bool   // counts against max_concurrent_requests
	access  access // who may call it
	handle  handler
}

// ServeHTTP dispatches by exact path. Every response carries x-request-id.
// CORS never applies to admin routes.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := rt.requestID(r)
	w.Header().Set("X-Request-Id", id)
	rte, ok := rt.routes[r.URL.Path]
	if !ok {
		rte, ok = rt.prefixRoute(r.URL.Path)
	}
	if rte.access != adminAccess && rt.cors(w, r) {
		return
	}
	if !ok {
		writeErrorStatus(w, http.StatusNotFound, "no route for "+r.URL.Path)
		return
	}
	if rte.method != "" && r.Method != rte.method {
		w.Header().Set("Allow", rte.method)
		writeErrorStatus(w, http.StatusMethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path+"; use "+rte.method)
		return
	}
	start := mono.Now()
	status, o, cut := unpackReply(rt.serveRoute(w, r, id, rte))
	elapsed := time.Since(start)
	rt.rec.RecordRequest(rte.label, elapsed)
	if label := errorLabel(status, o); label != "" {
		rt.rec.RecordError(rte.label, label)
	}
	// Per-request lines only at debug level: Check costs nothing otherwise.
	if ce := rt.log.Check(zap.DebugLevel, "request"); ce != nil {
		ce.Write(zap.String("request_id", id), zap.String("method", r.Method), zap.String("path", r.URL.Path),
			zap.Int("status", status), zap.Bool("cut", cut), zap.Duration("duration", elapsed))
	}
	if cut {
		panic(http.ErrAbortHandler) // the answer broke off: the client must not take it for whole
	}
}

func (rt *Router) serveRoute(w http.ResponseWriter, r *http.Request, id string, rte route) int {
	if err := rt.authorize(r, rte.access); err != nil {
		return writeAuthError(w, err)
	}
	if rte.limited {
		release, err := rt.limiter.acquire(r.Context())
		if err != nil {
			return writeError(w, err)
		}
		defer release()
	}
	return rte.handle(w, r, id)
}

func (rt *Router) routeTable() map[string]route {
	routes := map[string]route{
		"/health":          {method: http.MethodGet, handle: rt.health},
		"/health_generate": {method: http.MethodGet, handle: rt.healthGenerate},
		"/liveness":        {method: http.MethodGet, handle: liveness},
		"/readiness":       {method: http.MethodGet, handle: rt.readiness},
		"/ping":            {method: http.MethodGet, handle: liveness}, // SageMaker's liveness probe
		"/add_worker":      {method: http.MethodPost, access: adminAccess, handle: rt.addWorker},
		"/remove_worker":   {method: http.MethodPost, access: adminAccess, handle: rt.removeWorker},
		"/list_workers":    {method: http.MethodGet, access: adminAccess, handle: rt.listWorkers},
		"/flush_cache":     {method: http.MethodPost, access: adminAccess, handle: rt.flushCache},
		"/get_loads":       {method: http.MethodGet, access: adminAccess, handle: rt.getLoads},
	}
	for _, s := range ForwardedRoutes() {
		if strings.Contains(s.Path, "{") {
			continue // served by prefixRoute
		}
		rte := route{label: s.Path, method: s.Method, access: clientAccess, handle: rt.handlerOf(s)}
		rte.limited = s.Kind == KindGenerate || s.Kind == KindModel || s.Kind == KindLoad
		routes[s.Path] = rte
	}
	for path, rte := range routes {
		rte.label = path
		routes[path] = rte
	}
	return routes
}

// handlerOf returns the handler of a forwarded route.
func (rt *Router) handlerOf(s RouteSpec) handler {
	switch {
	case s.Path == "/v1/models":
		return rt.listModels
	case s.Path == "/api/tags":
		return rt.ollamaTags
	case s.Path == "/abort_request":
		return rt.abortRequest
	case s.Kind == KindInfo:
		return rt.forwardInfo(s.Path, rt.infoPool(s.Path == "/get_server_info"))
	}
	return rt.bodyRoute(s)
}

// prefixRoute serves the routes with an id in their path.
func (rt *Router) prefixRoute(path string) (route, bool) {
	switch {
	case strings.HasPrefix(path, "/v1/models/"):
		return route{label: "/v1/models/{model}", method: http.MethodGet, access: clientAccess, handle: rt.getModel}, true
	case strings.HasPrefix(path, "/v1/responses/"):
		return route{label: "/v1/responses/{id}", access: clientAccess, handle: rt.storedResponse}, true
	}
	return route{}, false
}

// infoPool picks the pool that answers informational routes: the regular
// pool, or in PD mode the decode pool for server info and prefill otherwise.
func (rt *Router) infoPool(serverInfo bool) *Pool {
	switch {
	case !rt.PD():
		return rt.regular
	case serverInfo:
		return rt.decode
	}
	return rt.prefill
}

// pools lists every pool of the router (one in regular mode, two in PD).
func (rt *Router) pools() []*Pool { return rt.allPools }
