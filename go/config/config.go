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
type Config struct {
	// Regular mode.
	WorkerURLs []string `json:"worker_urls"`
	Policy     string   `json:"policy"`
	Host       string   `json:"host"`
	Port       int      `json:"port"`

	// Health and startup.
	WorkerStartupTimeoutSecs   int `json:"worker_startup_timeout_secs"`
	WorkerStartupCheckInterval int `json:"worker_startup_check_interval"`
	HealthCheckTimeoutSecs     int `json:"health_check_timeout_secs"`
	HealthFailureThreshold     int `json:"health_failure_threshold"`
	HealthSuccessThreshold     int `json:"health_success_threshold"`

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

	// Requests.
	MaxPayloadSize          int64    `json:"max_payload_size"`
	RequestTimeoutSecs      int      `json:"request_timeout_secs"`
	APIKey                  string   `json:"api_key"`
	RequestIDHeaders        []string `json:"request_id_headers"`
	CORSAllowedOrigins      []string `json:"cors_allowed_origins"`
	MaxConcurrentRequests   int      `json:"max_concurrent_requests"`
	QueueSize               int      `json:"queue_size"`
	QueueTimeoutSecs        int      `json:"queue_timeout_secs"`
	ShutdownGracePeriodSecs int      `json:"shutdown_grace_period_secs"`

	// Access control. AdminAPIKey, when set, guards the admin routes;
	// ClientAPIKeys, when set, guard the request routes. Empty values are
	// read from the environment (see env.go).
	AdminAPIKey   string   `json:"admin_api_key"`
	ClientAPIKeys []string `json:"client_api_keys"`

	// Retries and circuit breaker.
	RetryMaxRetries       int  `json:"retry_max_retries"`
	RetryInitialBackoffMs int  `json:"retry_initial_backoff_ms"`
	RetryMaxBackoffMs     int  `json:"retry_max_backoff_ms"`
	DisableRetries        bool `json:"disable_retries"`
	CBFailureThreshold    int  `json:"cb_failure_threshold"`
	CBSuccessThreshold    int  `json:"cb_success_threshold"`
	CBTimeoutDurationSecs int  `json:"cb_timeout_duration_secs"`
	DisableCircuitBreaker bool `json:"disable_circuit_breaker"`

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

	// Prefill/decode disaggregation.
	PDDisaggregation bool         `json:"pd_disaggregation"`
	PrefillURLs      []PrefillURL `json:"prefill_urls"`
	DecodeURLs       []string     `json:"decode_urls"`
	PrefillPolicy    string       `json:"prefill_policy"`
	DecodePolicy     string       `json:"decode_policy"`
}

// Defaults returns the defaults of the Python Router class (SPEC section 1).
// The CLI has its own defaults (port 30000, cache_aware) and sends them explicitly.
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
		CacheThreshold:             0.5,
		BalanceAbsThreshold:        32,
		BalanceRelThreshold:        1.0001,
		EvictionIntervalSecs:       60,
		MaxTreeSize:                1 << 24,
		MaxTreeMemoryMB:            256,
		MaxPayloadSize:             256 << 20,
		RequestTimeoutSecs:         600,
		RequestIDHeaders:           []string{"x-request-id", "x-correlation-id", "x-trace-id", "request-id"},
		QueueTimeoutSecs:           60,
		ShutdownGracePeriodSecs:    180,
		RetryMaxRetries:            3,
		RetryInitialBackoffMs:      50,
		RetryMaxBackoffMs:          5000,
		CBFailureThreshold:         5,
		CBSuccessThreshold:         2,
		CBTimeoutDurationSecs:      30,
		LogLevel:                   "info",
		PrometheusHost:             "127.0.0.1",
		PrometheusPort:             29000,
		ServiceDiscoveryPort:       80,
		BootstrapPortAnnotation:    DefaultAnnotation,
	}
}

// Parse decodes a JSON object over Defaults(): absent or null fields keep
// their defaults. Unknown fields are an error so a typo never passes silently.
func Parse(data []byte) (Config, error) {
	c := Defaults()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("invalid router configuration: %w", err)
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	c.keysFromEnv(os.Getenv)
	return c, c.Validate()
}
