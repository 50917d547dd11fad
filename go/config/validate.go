package config

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sgl-project/sglang-router-go/go/worker"
)

// Validate checks every field and returns all problems at once, each naming
// its field, so a user fixes a command line in one go.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	for _, p := range []struct{ field, value string }{
		{"policy", c.Policy}, {"prefill_policy", c.PrefillPolicy}, {"decode_policy", c.DecodePolicy},
	} {
		if p.value != "" && p.value != PolicyBucket && !isPolicy(p.value) {
			bad("%s: unknown policy %q (choose from %s)", p.field, p.value, strings.Join(Policies, ", "))
		}
	}
	if c.Policy == "" {
		bad("policy: must be set")
	}
	for url, model := range c.WorkerModels {
		if model == "" || len(model) > 256 {
			bad("worker_models: the model of %s must be 1 to 256 bytes", url)
		}
	}
	if len(c.DefaultModel) > 256 {
		bad("default_model: longer than 256 bytes")
	}
	if c.Port < 0 || c.Port > 65535 {
		bad("port: %d is not a TCP port", c.Port)
	}
	if c.PrometheusPort < 0 || c.PrometheusPort > 65535 {
		bad("prometheus_port: %d is not a TCP port", c.PrometheusPort)
	}
	if c.CacheThreshold < 0 || c.CacheThreshold > 1 {
		bad("cache_threshold: %v must be between 0 and 1", c.CacheThreshold)
	}
	if c.BalanceRelThreshold < 1 {
		bad("balance_rel_threshold: %v must be at least 1.0", c.BalanceRelThreshold)
	}
	if c.RetryBackoffMultiplier < 1 {
		bad("retry_backoff_multiplier: %v must be at least 1.0", c.RetryBackoffMultiplier)
	}
	if c.RetryJitterFactor < 0 || c.RetryJitterFactor > 1 {
		bad("retry_jitter_factor: %v must be between 0.0 and 1.0", c.RetryJitterFactor)
	}
	if c.RetryMaxBackoffMs < c.RetryInitialBackoffMs {
		bad("retry_max_backoff_ms: %d must be at least retry_initial_backoff_ms (%d)", c.RetryMaxBackoffMs, c.RetryInitialBackoffMs)
	}
	if c.QueueSize > 0 && c.QueueTimeoutSecs == 0 && c.MaxConcurrentRequests > 0 {
		bad("queue_timeout_secs: must be > 0 when queue_size > 0")
	}
	if !validEndpoint(c.HealthCheckEndpoint) {
		bad("health_check_endpoint: %q must be a path starting with / (letters, digits and -._~/ only)", c.HealthCheckEndpoint)
	}
	if (c.ClientCertPath == "") != (c.ClientKeyPath == "") {
		bad("client_cert_path and client_key_path: give both or neither")
	}
	for _, n := range []struct {
		field string
		value int64
		min   int64
	}{
		{"balance_abs_threshold", int64(c.BalanceAbsThreshold), 0},
		{"worker_startup_timeout_secs", int64(c.WorkerStartupTimeoutSecs), 1},
		{"worker_startup_check_interval", int64(c.WorkerStartupCheckInterval), 1},
		{"health_check_timeout_secs", int64(c.HealthCheckTimeoutSecs), 1},
		{"health_failure_threshold", int64(c.HealthFailureThreshold), 1},
		{"health_success_threshold", int64(c.HealthSuccessThreshold), 1},
		{"eviction_interval_secs", int64(c.EvictionIntervalSecs), 1},
		{"max_tree_size", int64(c.MaxTreeSize), 1},
		{"max_payload_size", c.MaxPayloadSize, 1},
		{"body_read_timeout_secs", int64(c.BodyReadTimeoutSecs), 1},
		{"header_read_timeout_secs", int64(c.HeaderReadTimeoutSecs), 1},
		{"max_buffered_body_bytes", c.MaxBufferedBodyBytes, 1},
		{"stall_timeout_secs", int64(c.StallTimeoutSecs), 0},
		{"request_timeout_secs", int64(c.RequestTimeoutSecs), 1},
		{"max_concurrent_requests", int64(c.MaxConcurrentRequests), -1},
		{"rate_limit_tokens_per_second", int64(c.RateLimitTokensPerSecond), 0},
		{"health_check_interval_secs", int64(c.HealthCheckIntervalSecs), 0},
		{"cb_window_duration_secs", int64(c.CBWindowDurationSecs), 1},
		{"queue_size", int64(c.QueueSize), 0},
		{"queue_timeout_secs", int64(c.QueueTimeoutSecs), 0},
		{"shutdown_grace_period_secs", int64(c.ShutdownGracePeriodSecs), 0},
		{"retry_max_retries", int64(c.RetryMaxRetries), 0},
		{"retry_initial_backoff_ms", int64(c.RetryInitialBackoffMs), 0},
		{"retry_max_backoff_ms", int64(c.RetryMaxBackoffMs), 0},
		{"cb_failure_threshold", int64(c.CBFailureThreshold), 1},
		{"cb_success_threshold", int64(c.CBSuccessThreshold), 1},
		{"cb_timeout_duration_secs", int64(c.CBTimeoutDurationSecs), 1},
		{"service_discovery_port", int64(c.ServiceDiscoveryPort), 1},
	} {
		if n.value < n.min {
			bad("%s: %d must be at least %d", n.field, n.value, n.min)
		}
	}
	if !isLogLevel(c.LogLevel) {
		bad("log_level: unknown level %q (choose from %s)", c.LogLevel, strings.Join(LogLevels, ", "))
	}
	if c.MaxTreeMemoryMB < 1 || c.MaxTreeMemoryMB > 1<<20 {
		bad("max_tree_memory_mb: %d must be between 1 and %d (1 TiB)", c.MaxTreeMemoryMB, 1<<20)
	}
	if c.LoadPollIntervalMs < 0 || c.LoadPollIntervalMs > 3600_000 {
		bad("load_poll_interval_ms: %d must be between 0 and 3600000", c.LoadPollIntervalMs)
	}
	if c.MaxAnswerInsertBytes < 0 || c.MaxAnswerInsertBytes > MaxAnswerInsertLimit {
		bad("max_answer_insert_bytes: %d must be between 0 (off) and %d (64 MiB)", c.MaxAnswerInsertBytes, MaxAnswerInsertLimit)
	}
	if !headerName(c.SessionHeader) {
		bad("session_header: %q is not a header name (letters, digits and !#$%%&'*+-.^_`|~ only)", c.SessionHeader)
	}
	errs = append(errs, c.validateWorkers()...)
	errs = append(errs, c.validateDiscovery()...)
	errs = append(errs, c.validateAccess()...)
	errs = append(errs, c.refused()...)
	return errors.Join(errs...)
}

func (c *Config) validateWorkers() []error {
	var errs []error
	seen := map[string]string{} // normalised URL -> as first written
	check := func(field, raw string, role worker.Role, port *int) {
		spec, err := worker.ParseSpec(raw, role, port)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", field, err))
			return
		}
		if first, dup := seen[spec.URL]; dup {
			errs = append(errs, fmt.Errorf("%s: %q and %q are one worker, %s; list it once", field, first, raw, spec.URL))
		}
		seen[spec.URL] = raw
	}
	for _, u := range c.WorkerURLs {
		check("worker_urls", u, worker.Regular, nil)
	}
	for _, p := range c.PrefillURLs {
		check("prefill_urls", p.URL, worker.Prefill, p.BootstrapPort)
	}
	for _, u := range c.DecodeURLs {
		check("decode_urls", u, worker.Decode, nil)
	}
	if c.PDDisaggregation && !c.ServiceDiscovery {
		if len(c.PrefillURLs) == 0 {
			errs = append(errs, errors.New("PD disaggregation mode requires --prefill"))
		}
		if len(c.DecodeURLs) == 0 {
			errs = append(errs, errors.New("PD disaggregation mode requires --decode"))
		}
	}
	if !c.PDDisaggregation && !c.ServiceDiscovery && c.Policy == PolicyPowerOfTwo && len(c.WorkerURLs) < 2 {
		errs = append(errs, errors.New("Power-of-two policy requires at least 2 workers"))
	}
	if c.PDDisaggregation && !c.ServiceDiscovery {
		if c.PrefillPolicy == PolicyPowerOfTwo && len(c.PrefillURLs) == 1 {
			errs = append(errs, errors.New("Power-of-two policy for prefill requires at least 2 prefill workers"))
		}
		if c.DecodePolicy == PolicyPowerOfTwo && len(c.DecodeURLs) == 1 {
			errs = append(errs, errors.New("Power-of-two policy for decode requires at least 2 decode workers"))
		}
	}
	return errs
}

// validateDiscovery refuses a discovery that would route to every pod of
// the cluster, with the original's messages.
func (c *Config) validateDiscovery() []error {
	switch {
	case !c.ServiceDiscovery:
	case c.DPAware:
		return []error{errors.New("dp_aware: DP-aware routing is not compatible with service discovery")}
	case !c.PDDisaggregation && len(c.Selector) == 0:
		return []error{errors.New("selector: Regular mode with service discovery requires a non-empty selector")}
	case c.PDDisaggregation && len(c.PrefillSelector) == 0 && len(c.DecodeSelector) == 0:
		return []error{errors.New("prefill_selector, decode_selector: PD mode with service discovery requires at least one non-empty selector (prefill or decode)")}
	}
	return nil
}

// validEndpoint accepts an absolute URL path of unreserved characters.
func validEndpoint(p string) bool {
	if !strings.HasPrefix(p, "/") || len(p) > 256 {
		return false
	}
	for _, r := range p {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~/", r)
		if !ok {
			return false
		}
	}
	return true
}

// headerName reports whether s is empty or an HTTP header name (a token,
// RFC 9110 section 5.1).
func headerName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)) {
			return false
		}
	}
	return true
}

func isPolicy(name string) bool {
	for _, p := range Policies {
		if p == name {
			return true
		}
	}
	return false
}

func isLogLevel(l string) bool {
	switch strings.ToLower(l) {
	case "debug", "info", "warning", "warn", "error", "critical":
		return true
	}
	return false
}

// PolicyFor returns the prefill or decode policy, falling back to Policy.
func (c *Config) PolicyFor(specific string) string {
	if specific != "" {
		return specific
	}
	return c.Policy
}

// MaxAnswerInsertLimit is the largest max_answer_insert_bytes: an answer
// being read is buffered, so this bounds what one request may hold.
const MaxAnswerInsertLimit = 64 << 20
