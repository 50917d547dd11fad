// Package config holds the router's typed configuration: the JSON tags are the
// Python keyword names, so one JSON object crosses the C boundary unchanged.
// It has defaults and validation, and no behaviour. Its only internal import
// is worker, whose NormalizeURL is the one place worker URL rules live.
package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
)

// Policy names accepted by --policy, --prefill-policy and --decode-policy.
const (
	PolicyRandom      = "random"
	PolicyRoundRobin  = "round_robin"
	PolicyCacheAware  = "cache_aware"
	PolicyPowerOfTwo  = "power_of_two"
	DefaultAnnotation = "sglang.ai/bootstrap-port"
	// DefaultModelAnnotation is the pod annotation that names the model a
	// discovered worker serves.
	DefaultModelAnnotation = "sglang.ai/model"
)

// Policies lists every policy name, in the order help texts show them.
var Policies = []string{PolicyRandom, PolicyRoundRobin, PolicyCacheAware, PolicyPowerOfTwo}

// PrefillURL is one prefill worker and its optional bootstrap port. It
// marshals as the JSON pair [url, port|null], the shape Python sends.
type PrefillURL struct {
	URL           string
	BootstrapPort *int
}

// UnmarshalJSON accepts [url], [url, port] or [url, null].
func (p *PrefillURL) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil || len(raw) == 0 || len(raw) > 2 {
		return fmt.Errorf("prefill_urls: each entry must be [url] or [url, bootstrap_port|null], got %s", b)
	}
	if err := json.Unmarshal(raw[0], &p.URL); err != nil {
		return fmt.Errorf("prefill_urls: url must be a string, got %s", raw[0])
	}
	p.BootstrapPort = nil
	if len(raw) == 2 && !bytes.Equal(bytes.TrimSpace(raw[1]), []byte("null")) {
		var port int
		if err := json.Unmarshal(raw[1], &port); err != nil {
			return fmt.Errorf("Invalid bootstrap port: %s. Must be a number or 'none'", raw[1])
		}
		p.BootstrapPort = &port
	}
	return nil
}

// MarshalJSON writes the [url, port|null] pair.
func (p PrefillURL) MarshalJSON() ([]byte, error) {
	return json.Marshal([]any{p.URL, p.BootstrapPort})
}

// Config is immutable once the router starts. Zero values are replaced by
// Defaults() only through Parse; a Config built by hand should start from
// Defaults().
//
// Adding a field: declare it here (its JSON tag is the Python keyword and,
// with "_" as "-", the command-line flag), give it a default in Defaults()
// if zero is not one, and describe it in the flag table (flags.go). The
// binary, launch_router, RouterArgs and Router(...) all derive from those.
type Config struct {
	// Regular mode.
	WorkerURLs []string `json:"worker_urls"`
	Policy     string   `json:"policy"`
	Host       string   `json:"host"`
	Port       int      `json:"port"`
	// DPAware makes every data-parallel rank of an SGLang server running
	// data-parallel attention a routable unit: the router asks each
	// worker's /get_server_info for its dp_size when adding it and sends
	// the chosen rank in the request body (data_parallel_rank).
	DPAware bool `json:"dp_aware"`

	// Health and startup.
	WorkerStartupTimeoutSecs   int `json:"worker_startup_timeout_secs"`
	WorkerStartupCheckInterval int `json:"worker_startup_check_interval"`
	HealthCheckTimeoutSecs     int `json:"health_check_timeout_secs"`
	HealthFailureThreshold     int `json:"health_failure_threshold"`
	HealthSuccessThreshold     int `json:"health_success_threshold"`
	// HealthCheckIntervalSecs is the period of health checks once running;
	// 0 means WorkerStartupCheckInterval (the v0.1.6 behaviour).
	HealthCheckIntervalSecs int    `json:"health_check_interval_secs"`
	HealthCheckEndpoint     string `json:"health_check_endpoint"`

	// cache_aware.
	CacheThreshold       float64 `json:"cache_threshold"`
	BalanceAbsThreshold  int     `json:"balance_abs_threshold"`
	BalanceRelThreshold  float64 `json:"balance_rel_threshold"`
	EvictionIntervalSecs int     `json:"eviction_interval_secs"`
	MaxTreeSize          int     `json:"max_tree_size"`
	// MaxTreeMemoryMB bounds the prefix tree's memory (node overhead
	// included), beside MaxTreeSize's characters per worker. The default,
	// 256, leaves the common case as before: 8 workers x 2^24 ASCII
	// characters are 128 MiB of text plus about 220 bytes per node (some
	// two nodes per prompt that starts a branch), under 256 MiB for prompts
	// of 1 KB or more. Short prompts, CJK text or more workers make the
	// memory budget bind first, which evicts least recently used prefixes
	// (hit rate, not correctness). It bounds the worst case (prompts that
	// branch at every character cost about 200 bytes per character, 27 GB
	// at 8 x 2^24) to what fits the 1 GiB the deploy manifests request: the
	// Go runtime lets a process grow to about twice its live heap.
	MaxTreeMemoryMB int `json:"max_tree_memory_mb"`
	// SessionHeader names the request header whose value is a session key
	// (requests with one stay on one worker on every replica; the body's
	// "user" and "session_params"."id" count too, the header first); ""
	// reads no header.
	SessionHeader string `json:"session_header"`
	// LoadPollIntervalMs is how often cache_aware reads every worker's
	// own load (GET /get_load), in milliseconds; 0 turns it off. The
	// workers' load is what all router replicas share: with it they agree
	// on which worker is overloaded, where each replica's own in-flight
	// count sees only its share of the traffic. A worker that does not
	// answer is judged by this router's in-flight count.
	LoadPollIntervalMs int `json:"load_poll_interval_ms"`
	// DecisionHeaders makes every routed response say which worker served
	// it and why (x-sglang-router-worker, x-sglang-router-reason).
	DecisionHeaders bool `json:"decision_headers"`
	// MaxAnswerInsertBytes: cache_aware records each answer the router
	// relays, up to this many bytes, as held by the worker that wrote it,
	// so a conversation's next turn (which resends the answer) goes there;
	// longer answers are not recorded. 0 records none.
	MaxAnswerInsertBytes int `json:"max_answer_insert_bytes"`

	// Requests.
	MaxPayloadSize int64 `json:"max_payload_size"`
	// BodyReadTimeoutSecs bounds reading one request body (408 past it);
	// HeaderReadTimeoutSecs bounds reading a request's headers.
	BodyReadTimeoutSecs   int `json:"body_read_timeout_secs"`
	HeaderReadTimeoutSecs int `json:"header_read_timeout_secs"`
	// MaxBufferedBodyBytes caps request-body bytes buffered across all
	// requests at once (429 past it), so many clients announcing large
	// bodies cannot make the router hold many times max_payload_size.
	MaxBufferedBodyBytes int64 `json:"max_buffered_body_bytes"`
	// StallTimeoutSecs: a worker with requests in flight that answers none
	// for this long while others answer is taken out of rotation until
	// /health_generate answers; 0 disables stall detection.
	StallTimeoutSecs int `json:"stall_timeout_secs"`

	RequestTimeoutSecs int      `json:"request_timeout_secs"`
	APIKey             string   `json:"api_key"`
	RequestIDHeaders   []string `json:"request_id_headers"`
	CORSAllowedOrigins []string `json:"cors_allowed_origins"`
	// MaxConcurrentRequests <= 0 (the original's -1) means unlimited.
	MaxConcurrentRequests int `json:"max_concurrent_requests"`
	QueueSize             int `json:"queue_size"`
	QueueTimeoutSecs      int `json:"queue_timeout_secs"`
	// RateLimitTokensPerSecond, when > 0, also bounds admissions per second
	// (a token bucket holding up to MaxConcurrentRequests tokens).
	RateLimitTokensPerSecond int `json:"rate_limit_tokens_per_second"`
	ShutdownGracePeriodSecs  int `json:"shutdown_grace_period_secs"`

	// Access control. AdminAPIKey, when set, guards the admin routes;
	// ClientAPIKeys, when set, guard the request routes. Empty values are
	// read from the environment (see access.go).
	AdminAPIKey   string   `json:"admin_api_key"`
	ClientAPIKeys []string `json:"client_api_keys"`

	// Retries and circuit breaker.
	RetryMaxRetries        int     `json:"retry_max_retries"`
	RetryInitialBackoffMs  int     `json:"retry_initial_backoff_ms"`
	RetryMaxBackoffMs      int     `json:"retry_max_backoff_ms"`
	RetryBackoffMultiplier float64 `json:"retry_backoff_multiplier"`
	RetryJitterFactor      float64 `json:"retry_jitter_factor"`
	DisableRetries         bool    `json:"disable_retries"`
	CBFailureThreshold     int     `json:"cb_failure_threshold"`
	CBSuccessThreshold     int     `json:"cb_success_threshold"`
	CBTimeoutDurationSecs  int     `json:"cb_timeout_duration_secs"`
	CBWindowDurationSecs   int     `json:"cb_window_duration_secs"`
	DisableCircuitBreaker  bool    `json:"disable_circuit_breaker"`

	// TLS towards workers (mTLS).
	ClientCertPath string   `json:"client_cert_path"`
	ClientKeyPath  string   `json:"client_key_path"`
	CACertPaths    []string `json:"ca_cert_paths"`

	// Logging and metrics.
	LogDir         string `json:"log_dir"`
	LogLevel       string `json:"log_level"`
	JSONLog        bool   `json:"json_log"`
	PrometheusHost string `json:"prometheus_host"`
	PrometheusPort int    `json:"prometheus_port"`
	// DisableMetrics turns metric recording off; an internal option that
	// lets the benchmark measure what metrics cost.
	DisableMetrics bool `json:"disable_metrics"`

	// Kubernetes service discovery.
	ServiceDiscovery          bool              `json:"service_discovery"`
	Selector                  map[string]string `json:"selector"`
	ServiceDiscoveryPort      int               `json:"service_discovery_port"`
	ServiceDiscoveryNamespace string            `json:"service_discovery_namespace"`
	PrefillSelector           map[string]string `json:"prefill_selector"`
	DecodeSelector            map[string]string `json:"decode_selector"`
	BootstrapPortAnnotation   string            `json:"bootstrap_port_annotation"`
	ModelAnnotation           string            `json:"model_annotation"`

	// Models. A worker's model is learned from the worker when it joins
	// unless WorkerModels names it (keys are worker URLs).
	DefaultModel string            `json:"default_model"`
	WorkerModels map[string]string `json:"worker_models"`

	// Prefill/decode disaggregation.
	PDDisaggregation bool         `json:"pd_disaggregation"`
	PrefillURLs      []PrefillURL `json:"prefill_urls"`
	DecodeURLs       []string     `json:"decode_urls"`
	PrefillPolicy    string       `json:"prefill_policy"`
	DecodePolicy     string       `json:"decode_policy"`

	// Options of the original's 0.2.x line that select features this router
	// does not have (compat.go says what each one does here).
	Compat
}

// Defaults returns the defaults of the Python Router class (as the original's);
// CLIDefaults has the command line's. Options of the original's 0.2.x line
// that v0.1.6 did not have take that line's defaults.
func Defaults() Config {
	return Config{
		WorkerURLs:                 []string{},
		Policy:                     PolicyRoundRobin,
		Host:                       "127.0.0.1",
		Port:                       3001,
		WorkerStartupTimeoutSecs:   300,
		WorkerStartupCheckInterval: 10,
		HealthCheckTimeoutSecs:     5,
		HealthFailureThreshold:     3,
		HealthSuccessThreshold:     2,
		HealthCheckEndpoint:        "/health",
		CacheThreshold:             0.5,
		BalanceAbsThreshold:        32,
		BalanceRelThreshold:        1.0001,
		EvictionIntervalSecs:       60,
		MaxTreeSize:                1 << 24,
		MaxTreeMemoryMB:            256,
		SessionHeader:              "x-session-id",
		LoadPollIntervalMs:         200,
		MaxAnswerInsertBytes:       64 << 10,
		MaxPayloadSize:             256 << 20,
		BodyReadTimeoutSecs:        60,
		HeaderReadTimeoutSecs:      10,
		MaxBufferedBodyBytes:       1 << 30,
		StallTimeoutSecs:           5,
		RequestTimeoutSecs:         600,
		RequestIDHeaders:           []string{"x-request-id", "x-correlation-id", "x-trace-id", "request-id"},
		CORSAllowedOrigins:         []string{},
		ClientAPIKeys:              []string{},
		MaxConcurrentRequests:      -1,
		QueueSize:                  100,
		QueueTimeoutSecs:           60,
		ShutdownGracePeriodSecs:    180,
		RetryMaxRetries:            5,
		RetryInitialBackoffMs:      50,
		RetryMaxBackoffMs:          30000,
		RetryBackoffMultiplier:     1.5,
		RetryJitterFactor:          0.2,
		CBFailureThreshold:         10,
		CBSuccessThreshold:         3,
		CBTimeoutDurationSecs:      60,
		CBWindowDurationSecs:       120,
		CACertPaths:                []string{},
		LogLevel:                   "info",
		PrometheusHost:             "127.0.0.1",
		PrometheusPort:             29000,
		Selector:                   map[string]string{},
		ServiceDiscoveryPort:       80,
		PrefillSelector:            map[string]string{},
		DecodeSelector:             map[string]string{},
		WorkerModels:               map[string]string{},
		BootstrapPortAnnotation:    DefaultAnnotation,
		ModelAnnotation:            DefaultModelAnnotation,
		PrefillURLs:                []PrefillURL{},
		DecodeURLs:                 []string{},
		Compat:                     compatDefaults(),
	}
}

// CLIDefaults are the command line's defaults: the Router class's except
// port 30000 and policy cache_aware, as in the original.
func CLIDefaults() Config {
	c := Defaults()
	c.Port = 30000
	c.Policy = PolicyCacheAware
	return c
}

// Parse decodes a JSON object over Defaults(): absent or null fields keep
// their defaults (lists and maps included: null is "not set", [] is
// "empty"). Unknown fields are an error so a typo never passes silently.
func Parse(data []byte) (Config, error) {
	c, err := decodeOver(Defaults(), data)
	if err != nil {
		return c, err
	}
	return c.finish()
}

// finish completes a decoded configuration the same way for every front
// end (Parse, ParseArgs): empty access keys come from the environment, then
// everything is validated.
func (c Config) finish() (Config, error) {
	c.keysFromEnv(os.Getenv)
	return c, c.Validate()
}

// decodeOver decodes the JSON object data over base, skipping null members.
func decodeOver(base Config, data []byte) (Config, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil || fields == nil {
		return base, fmt.Errorf("invalid router configuration: expected a JSON object: %v", describe(err, data))
	}
	for k, v := range fields {
		if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			delete(fields, k)
		}
	}
	set, _ := json.Marshal(fields)
	dec := json.NewDecoder(bytes.NewReader(set))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&base); err != nil {
		return base, fmt.Errorf("invalid router configuration: %w", err)
	}
	if base.LogLevel == "" {
		base.LogLevel = "info"
	}
	return base, nil
}

func describe(err error, data []byte) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("got %.40s", data)
}
