package config

import (
	"encoding/json"
	"reflect"
	"strings"
)

// Kind says how a flag's values are written on the command line.
type Kind string

// The kinds of flags; each maps to one argparse form in Python.
const (
	KindBool     Kind = "bool"     // no value (store_true)
	KindString   Kind = "string"   // one value
	KindInt      Kind = "int"      // one integer
	KindFloat    Kind = "float"    // one number
	KindList     Kind = "list"     // zero or more values (nargs "*")
	KindSelector Kind = "selector" // one or more key=value items
	KindPrefill  Kind = "prefill"  // URL [BOOTSTRAP_PORT|none], repeatable
	KindAppend   Kind = "append"   // one value, repeatable
)

// Flag describes one command-line flag: the config key it sets, its names
// (the first is the canonical one), how its values are written, and its help.
// The one table of flags (Flags) drives the binary's parser and, through the
// C export sgl_spec, Python's argparse, RouterArgs and Router(...).
type Flag struct {
	Key     string   `json:"key"` // JSON key in Config; "" for --verbose
	Names   []string `json:"names"`
	Kind    Kind     `json:"kind"`
	Help    string   `json:"help"`
	Group   string   `json:"group"`
	Choices []string `json:"choices,omitempty"`
	Metavar string   `json:"metavar,omitempty"`
	// Nullable marks settings whose zero value means "not set" (Python shows
	// None for it, as the original did).
	Nullable bool `json:"nullable,omitempty"`
}

// internalKeys are Config keys with no flag and no Python keyword.
var internalKeys = map[string]bool{"disable_metrics": true}

// LogLevels are the accepted --log-level values ("warn" is the 0.2.x spelling).
var LogLevels = []string{"debug", "info", "warn", "warning", "error", "critical"}

// Flags is the flag table, in the order help texts show it.
func Flags() []Flag { return flagTable }

var flagTable = concat(
	group("Workers and routing",
		flag("host", "Address the router listens on (IPv4 or IPv6; 0.0.0.0 or :: for every interface)"),
		flag("port", "Port the router listens on"),
		flag("worker_urls", "Worker URLs, e.g. http://worker1:8000 http://[::1]:8001", metavar("URL")),
		flag("policy", "Load balancing policy; in PD mode also the default of --prefill-policy and --decode-policy", choices(Policies...)),
		flag("dp_aware", "Route to each data-parallel rank of SGLang servers run with data-parallel attention: learn dp_size from /get_server_info, send data_parallel_rank in the body"),
		flag("worker_startup_timeout_secs", "Seconds to wait for a worker to become healthy; with no healthy worker by then the router exits"),
		flag("worker_startup_check_interval", "Seconds between worker health checks while starting (and after, unless --health-check-interval-secs is set)"),
		flag("cache_threshold", "cache_aware: prefix match ratio (0.0-1.0) above which the matched worker is picked"),
		flag("balance_abs_threshold", "cache_aware: load balancing takes over when max_load - min_load > this ..."),
		flag("balance_rel_threshold", "cache_aware: ... and max_load > min_load * this (>= 1.0)"),
		flag("eviction_interval_secs", "cache_aware: seconds between evictions of the prefix tree", names("--eviction-interval-secs", "--eviction-interval")),
		flag("max_tree_size", "cache_aware: characters kept per worker in the prefix tree"),
		flag("max_tree_memory_mb", "cache_aware: memory budget of the prefix tree in MiB, node overhead included; least recently used prefixes are evicted as it fills"),
		flag("session_header", "Request header holding a session key: requests with one stay on one worker on every router replica while it is healthy and not overloaded ('' for none; the body's user and session_params.id count too)"),
		flag("load_poll_interval_ms", "cache_aware: milliseconds between reads of each worker's own load (/get_load), which router replicas share to agree on overloaded workers; 0: this router's in-flight counts only"),
		flag("max_answer_insert_bytes", "cache_aware: longest answer, in bytes, recorded as held by the worker that wrote it, so a conversation's next turn (which resends it) goes there; 0: record none"),
		flag("decision_headers", "Responses say which worker served them and why (x-sglang-router-worker, x-sglang-router-reason)"),
		flag("max_payload_size", "Largest request body in bytes; larger ones get 413"),
		flag("body_read_timeout_secs", "Seconds a client has to send its whole request body; slower ones get 408"),
		flag("header_read_timeout_secs", "Seconds a client has to send its request headers before the connection is closed"),
		flag("stall_timeout_secs", "Seconds a worker may answer nothing while others answer before it leaves rotation until /health_generate answers; 0 disables"),
		flag("max_buffered_body_bytes", "Cap on request-body bytes buffered across all requests at once; past it requests get 429"),
		flag("request_timeout_secs", "Timeout of one request to a worker, in seconds"),
	),
	group("Prefill/decode disaggregation",
		flag("pd_disaggregation", "Send each request to one prefill and one decode worker"),
		flag("prefill_urls", "Prefill worker URL and optional bootstrap port (a number, 'none' or omitted); repeatable", names("--prefill"), metavar("URL [BOOTSTRAP_PORT]")),
		flag("decode_urls", "Decode worker URL; repeatable", names("--decode"), metavar("URL")),
		flag("prefill_policy", "Policy for prefill workers (default: --policy)", choices(append(append([]string{}, Policies...), PolicyBucket)...), nullable()),
		flag("decode_policy", "Policy for decode workers (default: --policy)", choices(Policies...), nullable()),
	),
	group("Kubernetes service discovery",
		flag("service_discovery", "Discover workers from Kubernetes pods"),
		flag("selector", "Label selector of worker pods", metavar("KEY=VALUE")),
		flag("service_discovery_port", "Port of discovered workers"),
		flag("service_discovery_namespace", "Namespace to watch (default: every namespace)", nullable()),
		flag("prefill_selector", "Label selector of prefill pods (PD mode)", metavar("KEY=VALUE")),
		flag("decode_selector", "Label selector of decode pods (PD mode)", metavar("KEY=VALUE")),
		flag("bootstrap_port_annotation", "Pod annotation that holds a prefill pod's bootstrap port"),
		flag("model_annotation", "Pod annotation that names the model a pod serves (else it is learned from the pod)"),
	),
	group("Models",
		flag("worker_models", "Model served by a worker, given instead of learned from its /v1/models; repeatable", metavar("URL=MODEL")),
		flag("default_model", "Model that serves requests naming no model (default: the only model served, else any worker)", nullable()),
	),
	group("Logging and metrics",
		flag("log_dir", "Folder for daily log files sgl-router.YYYY-MM-DD (default: console only)", nullable()),
		flag("log_level", "Log level", choices(LogLevels...)),
		Flag{Names: []string{"--verbose"}, Kind: KindBool, Help: "Same as --log-level debug"},
		flag("json_log", "Write every log line as JSON"),
		flag("prometheus_host", "Address of the Prometheus /metrics listener"),
		flag("prometheus_port", "Port of the Prometheus /metrics listener"),
	),
	group("Requests and reliability",
		flag("api_key", "Bearer token the router presents to workers (health checks, loads, and requests without their own Authorization)", nullable()),
		flag("admin_api_key", "Bearer key that /add_worker, /remove_worker, /flush_cache, /list_workers and /get_loads demand (default: $"+EnvAdminAPIKey+"; unset: open)", nullable()),
		flag("client_api_keys", "Bearer keys clients must present on the request routes; never forwarded to workers (default: $"+EnvClientAPIKeys+", comma-separated; unset: open)", metavar("KEY")),
		flag("request_id_headers", "Headers a client's request id is taken from, first present wins", metavar("HEADER")),
		flag("cors_allowed_origins", "Origins allowed by CORS (* for any; none: CORS off)", metavar("ORIGIN")),
		flag("max_concurrent_requests", "Requests served at once; -1 or 0: unlimited"),
		flag("queue_size", "Requests that may wait for a slot when at --max-concurrent-requests (0: 429 at once)"),
		flag("queue_timeout_secs", "Seconds a request may wait in the queue (then 408)"),
		flag("rate_limit_tokens_per_second", "Requests admitted per second, in bursts of up to --max-concurrent-requests (default: no rate limit)", nullable()),
		flag("shutdown_grace_period_secs", "Seconds in-flight requests get to finish when the router stops"),
		flag("retry_max_retries", "Retries of a failed request on another worker, before any byte reached the client"),
		flag("retry_initial_backoff_ms", "First retry backoff, in milliseconds"),
		flag("retry_max_backoff_ms", "Largest retry backoff, in milliseconds"),
		flag("retry_backoff_multiplier", "Backoff growth per retry (>= 1.0)"),
		flag("retry_jitter_factor", "Random spread of each backoff, as a fraction (0.0-1.0)"),
		flag("disable_retries", "Never retry a failed request"),
		flag("cb_failure_threshold", "Consecutive failures that open a worker's circuit breaker"),
		flag("cb_success_threshold", "Successes in half-open state that close it again"),
		flag("cb_timeout_duration_secs", "Seconds an open circuit rejects before it lets a trial request through"),
		flag("cb_window_duration_secs", "Failures further apart than this many seconds do not add up"),
		flag("disable_circuit_breaker", "Never take a failing worker out of rotation by its circuit breaker"),
	),
	group("Health checks",
		flag("health_failure_threshold", "Consecutive failed checks that mark a worker unhealthy"),
		flag("health_success_threshold", "Consecutive passed checks that mark it healthy again"),
		flag("health_check_timeout_secs", "Timeout of one health check, in seconds"),
		flag("health_check_interval_secs", "Seconds between health checks once running (default: --worker-startup-check-interval)", nullable()),
		flag("health_check_endpoint", "Path of the health check on each worker"),
	),
	group("TLS to workers",
		flag("client_cert_path", "Client certificate (PEM) presented to https:// workers (mTLS)", nullable()),
		flag("client_key_path", "Private key (PEM) of --client-cert-path", nullable()),
		flag("ca_cert_paths", "CA certificates (PEM) that https:// workers' certificates are checked against, besides the system's", metavar("PATH")),
	),
	group("Options of the original's 0.2.x line (accepted for compatibility; see the README)",
		flag("mini_lb", "Accepted: this router serves PD itself (the original's Python MiniLB)"),
		flag("enable_igw", "Not supported: the original's multi-model gateway mode"),
		flag("backend", "Backend runtime; only sglang is supported", choices("sglang", "openai")),
		flag("history_backend", "Conversation storage of the original's /v1/responses API; memory and none are accepted (this router stores nothing)", choices("memory", "none", "oracle", "postgres")),
		flag("mcp_config_path", "Not supported: MCP tool servers", nullable()),
		flag("enable_trace", "Not supported: OpenTelemetry tracing"),
		flag("otlp_traces_endpoint", "No effect: used only with --enable-trace"),
		flag("bucket_adjust_interval_secs", "No effect: used only by the bucket policy"),
		flag("model_path", "No effect: the original's gRPC mode only", nullable()),
		flag("tokenizer_path", "No effect: the original's gRPC mode only", nullable()),
		flag("chat_template", "No effect: the original's gRPC mode only", nullable()),
		flag("reasoning_parser", "No effect: the original's gRPC mode only", nullable()),
		flag("tool_call_parser", "No effect: the original's gRPC mode only", nullable()),
		flag("tokenizer_cache_enable_l0", "No effect: the original's gRPC mode only"),
		flag("tokenizer_cache_l0_max_entries", "No effect: the original's gRPC mode only"),
		flag("tokenizer_cache_enable_l1", "No effect: the original's gRPC mode only"),
		flag("tokenizer_cache_l1_max_memory", "No effect: the original's gRPC mode only"),
		flag("oracle_wallet_path", "No effect: --history-backend oracle only", nullable()),
		flag("oracle_tns_alias", "No effect: --history-backend oracle only", nullable()),
		flag("oracle_connect_descriptor", "No effect: --history-backend oracle only", nullable()),
		flag("oracle_username", "No effect: --history-backend oracle only", nullable()),
		flag("oracle_password", "No effect: --history-backend oracle only", nullable()),
		flag("oracle_pool_min", "No effect: --history-backend oracle only"),
		flag("oracle_pool_max", "No effect: --history-backend oracle only"),
		flag("oracle_pool_timeout_secs", "No effect: --history-backend oracle only"),
		flag("postgres_db_url", "No effect: --history-backend postgres only", nullable()),
		flag("postgres_pool_max", "No effect: --history-backend postgres only"),
	),
)

// flag builds the table entry for key: its name is --key with "-" for "_"
// and its kind follows the field's Go type.
func flag(key, help string, opts ...func(*Flag)) Flag {
	f := Flag{Key: key, Names: []string{"--" + strings.ReplaceAll(key, "_", "-")}, Kind: kindOf(key), Help: help}
	for _, o := range opts {
		o(&f)
	}
	return f
}

func names(n ...string) func(*Flag)   { return func(f *Flag) { f.Names = n } }
func choices(c ...string) func(*Flag) { return func(f *Flag) { f.Choices = c } }
func metavar(m string) func(*Flag)    { return func(f *Flag) { f.Metavar = m } }
func nullable() func(*Flag)           { return func(f *Flag) { f.Nullable = true } }

func group(name string, flags ...Flag) []Flag {
	for i := range flags {
		flags[i].Group = name
	}
	return flags
}

func concat(groups ...[]Flag) []Flag {
	var out []Flag
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// kindOf derives a flag's kind from the Go type of its Config field. A key
// that names no field panics at start-up: a table typo cannot ship.
func kindOf(key string) Kind {
	t, ok := fieldTypes()[key]
	if !ok {
		panic("config: flag table names unknown key " + key)
	}
	switch {
	case key == "decode_urls":
		return KindAppend
	case t == reflect.TypeOf([]PrefillURL(nil)):
		return KindPrefill
	}
	switch t.Kind() {
	case reflect.Bool:
		return KindBool
	case reflect.Int, reflect.Int64:
		return KindInt
	case reflect.Float64:
		return KindFloat
	case reflect.Slice:
		return KindList
	case reflect.Map:
		return KindSelector
	}
	return KindString
}

// fieldTypes maps every JSON key of Config (embedded structs flattened) to
// its Go type.
func fieldTypes() map[string]reflect.Type {
	out := map[string]reflect.Type{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Anonymous {
				walk(f.Type)
				continue
			}
			out[jsonName(f)] = f.Type
		}
	}
	walk(reflect.TypeOf(Config{}))
	return out
}

// Spec is everything a front end needs to offer the router's options
// without restating them: both sets of defaults and the flag table. It
// crosses the C boundary as JSON (sgl_spec).
type Spec struct {
	Defaults    map[string]any `json:"defaults"`     // Router(...) keyword defaults
	CLIDefaults map[string]any `json:"cli_defaults"` // launch_router / binary defaults
	Flags       []Flag         `json:"flags"`
	Policies    []string       `json:"policies"`
}

// NewSpec builds the Spec of this build.
func NewSpec() Spec {
	return Spec{Defaults: asMap(Defaults()), CLIDefaults: asMap(CLIDefaults()), Flags: Flags(), Policies: Policies}
}

// asMap is c as the JSON object Parse reads, without internal keys.
func asMap(c Config) map[string]any {
	data, _ := json.Marshal(c)
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	for k := range internalKeys {
		delete(m, k)
	}
	return m
}
