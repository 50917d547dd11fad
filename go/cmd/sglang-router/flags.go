package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/sgl-project/sglang-router-go/go/config"
)

// kind says how many values a flag takes and how they are read.
type kind int

const (
	kBool     kind = iota // no value
	kString               // one value
	kInt                  // one integer
	kFloat                // one number
	kList                 // zero or more values (nargs "*")
	kSelector             // one or more key=value items
	kPrefill              // URL [BOOTSTRAP_PORT|none], repeatable
	kRepeated             // one value, repeatable
)

// flag is one command-line flag of launch_router: its names, the config
// key (JSON name) it sets, and its help. Defaults come from cliDefaults.
type flag struct {
	names []string
	key   string
	kind  kind
	help  string
}

// flags mirrors `python -m sglang_router.launch_router` (SPEC section 2);
// a test compares the two.
var flags = []flag{
	{[]string{"--host"}, "host", kString, "Host address to bind the router server"},
	{[]string{"--port"}, "port", kInt, "Port number to bind the router server"},
	{[]string{"--worker-urls"}, "worker_urls", kList, "List of worker URLs"},
	{[]string{"--policy"}, "policy", kString, "Load balancing policy: random, round_robin, cache_aware, power_of_two"},
	{[]string{"--pd-disaggregation"}, "pd_disaggregation", kBool, "Enable prefill/decode disaggregated mode"},
	{[]string{"--prefill"}, "prefill_urls", kPrefill, "Prefill server URL and optional bootstrap port (repeatable)"},
	{[]string{"--decode"}, "decode_urls", kRepeated, "Decode server URL (repeatable)"},
	{[]string{"--prefill-policy"}, "prefill_policy", kString, "Policy for prefill workers (default: --policy)"},
	{[]string{"--decode-policy"}, "decode_policy", kString, "Policy for decode workers (default: --policy)"},
	{[]string{"--worker-startup-timeout-secs"}, "worker_startup_timeout_secs", kInt, "Seconds to wait for a worker to become healthy"},
	{[]string{"--worker-startup-check-interval"}, "worker_startup_check_interval", kInt, "Seconds between health checks"},
	{[]string{"--cache-threshold"}, "cache_threshold", kFloat, "Match rate above which cache_aware follows the cache"},
	{[]string{"--balance-abs-threshold"}, "balance_abs_threshold", kInt, "Load difference that triggers load balancing"},
	{[]string{"--balance-rel-threshold"}, "balance_rel_threshold", kFloat, "Load ratio that triggers load balancing"},
	{[]string{"--eviction-interval", "--eviction-interval-secs"}, "eviction_interval_secs", kInt, "Seconds between cache-tree evictions"},
	{[]string{"--max-tree-size"}, "max_tree_size", kInt, "Maximum characters per worker in the cache tree"},
	{[]string{"--max-tree-memory-mb"}, "max_tree_memory_mb", kInt, "Memory budget of the cache tree in MiB, node overhead included"},
	{[]string{"--max-payload-size"}, "max_payload_size", kInt, "Maximum request body size in bytes"},
	{[]string{"--log-dir"}, "log_dir", kString, "Directory for daily log files"},
	{[]string{"--log-level"}, "log_level", kString, "debug, info, warning, error or critical"},
	{[]string{"--service-discovery"}, "service_discovery", kBool, "Discover workers from Kubernetes pods"},
	{[]string{"--selector"}, "selector", kSelector, "Pod label selector key=value ..."},
	{[]string{"--service-discovery-port"}, "service_discovery_port", kInt, "Port of discovered workers"},
	{[]string{"--service-discovery-namespace"}, "service_discovery_namespace", kString, "Namespace to watch (default: all)"},
	{[]string{"--prefill-selector"}, "prefill_selector", kSelector, "Label selector of prefill pods"},
	{[]string{"--decode-selector"}, "decode_selector", kSelector, "Label selector of decode pods"},
	{[]string{"--bootstrap-port-annotation"}, "bootstrap_port_annotation", kString, "Pod annotation holding the bootstrap port"},
	{[]string{"--prometheus-host"}, "prometheus_host", kString, "Host of the metrics endpoint"},
	{[]string{"--prometheus-port"}, "prometheus_port", kInt, "Port of the metrics endpoint"},
	{[]string{"--request-timeout-secs"}, "request_timeout_secs", kInt, "Timeout of one request in seconds"},
	{[]string{"--api-key"}, "api_key", kString, "API key the router presents to workers"},
	{[]string{"--admin-api-key"}, "admin_api_key", kString, "Bearer key the admin routes demand (also $SGLANG_ROUTER_ADMIN_API_KEY); unset: open"},
	{[]string{"--client-api-keys"}, "client_api_keys", kList, "Bearer keys clients must present (also $SGLANG_ROUTER_CLIENT_API_KEYS, comma-separated); unset: open"},
	{[]string{"--request-id-headers"}, "request_id_headers", kList, "Headers a request id is taken from"},
	{[]string{"--cors-allowed-origins"}, "cors_allowed_origins", kList, "Origins allowed by CORS"},
	{[]string{"--max-concurrent-requests"}, "max_concurrent_requests", kInt, "Concurrent generation requests (0 = unlimited)"},
	{[]string{"--queue-size"}, "queue_size", kInt, "Requests that may wait for a slot"},
	{[]string{"--queue-timeout-secs"}, "queue_timeout_secs", kInt, "Seconds a request may wait for a slot"},
	{[]string{"--retry-max-retries"}, "retry_max_retries", kInt, "Retries on another worker before the first byte"},
	{[]string{"--retry-initial-backoff-ms"}, "retry_initial_backoff_ms", kInt, "First retry backoff"},
	{[]string{"--retry-max-backoff-ms"}, "retry_max_backoff_ms", kInt, "Largest retry backoff"},
	{[]string{"--disable-retries"}, "disable_retries", kBool, "Never retry"},
	{[]string{"--cb-failure-threshold"}, "cb_failure_threshold", kInt, "Consecutive failures that open a worker's circuit"},
	{[]string{"--cb-success-threshold"}, "cb_success_threshold", kInt, "Successes that close a half-open circuit"},
	{[]string{"--cb-timeout-duration-secs"}, "cb_timeout_duration_secs", kInt, "Seconds a circuit stays open"},
	{[]string{"--disable-circuit-breaker"}, "disable_circuit_breaker", kBool, "Never open circuits"},
	{[]string{"--health-failure-threshold"}, "health_failure_threshold", kInt, "Failed checks that mark a worker unhealthy"},
	{[]string{"--health-success-threshold"}, "health_success_threshold", kInt, "Passed checks that mark it healthy again"},
	{[]string{"--health-check-timeout-secs"}, "health_check_timeout_secs", kInt, "Timeout of one health check"},
	{[]string{"--json-log"}, "json_log", kBool, "Log JSON lines"},
	{[]string{"--shutdown-grace-period-secs"}, "shutdown_grace_period_secs", kInt, "Seconds in-flight requests may finish at shutdown"},
	{[]string{"--verbose"}, "", kBool, "Same as --log-level debug"},
}

// cliDefaults are the router defaults as the CLI shows them: the Router
// class defaults except port 30000 and policy cache_aware.
func cliDefaults() config.Config {
	c := config.Defaults()
	c.Port = 30000
	c.Policy = config.PolicyCacheAware
	return c
}

// parseArgs reads launch_router arguments into a configuration.
func parseArgs(args []string) (config.Config, error) {
	values := map[string]any{}
	byName := map[string]*flag{}
	for i := range flags {
		for _, n := range flags[i].names {
			byName[n] = &flags[i]
		}
	}
	for i := 0; i < len(args); {
		name, inline, hasInline := strings.Cut(args[i], "=")
		f, ok := byName[name]
		if !ok {
			return config.Config{}, fmt.Errorf("unrecognized argument: %s", args[i])
		}
		i++
		var vals []string
		if hasInline {
			vals = []string{inline}
		} else {
			for i < len(args) && !strings.HasPrefix(args[i], "--") && (len(vals) == 0 || f.kind >= kList) {
				vals = append(vals, args[i])
				i++
			}
		}
		if err := f.set(values, vals); err != nil {
			return config.Config{}, fmt.Errorf("%s: %w", f.names[0], err)
		}
	}
	return toConfig(values)
}

// set stores a flag's values into the JSON-shaped values map.
func (f *flag) set(values map[string]any, vals []string) error {
	need := func(n int) error {
		if len(vals) != n {
			return fmt.Errorf("expected %d value(s), got %d", n, len(vals))
		}
		return nil
	}
	switch f.kind {
	case kBool:
		if f.key == "" { // --verbose
			values["log_level"] = "debug"
			return need(0)
		}
		values[f.key] = true
		return need(0)
	case kString:
		values[f.key] = strings.Join(vals, "")
		return need(1)
	case kInt:
		if err := need(1); err != nil {
			return err
		}
		n, err := strconv.ParseInt(vals[0], 10, 64)
		values[f.key] = n
		return err
	case kFloat:
		if err := need(1); err != nil {
			return err
		}
		x, err := strconv.ParseFloat(vals[0], 64)
		values[f.key] = x
		return err
	case kList:
		values[f.key] = vals
	case kRepeated:
		prev, _ := values[f.key].([]string)
		values[f.key] = append(prev, vals...)
		return need(1)
	case kSelector:
		return setSelector(values, f.key, vals)
	case kPrefill:
		return addPrefill(values, vals)
	}
	return nil
}

func setSelector(values map[string]any, key string, vals []string) error {
	sel := map[string]string{}
	for _, item := range vals {
		k, v, ok := strings.Cut(item, "=")
		if !ok || k == "" {
			return fmt.Errorf("invalid selector %q: expected key=value", item)
		}
		sel[k] = v
	}
	values[key] = sel
	return nil
}

func addPrefill(values map[string]any, vals []string) error {
	if len(vals) < 1 || len(vals) > 2 {
		return fmt.Errorf("expected URL [BOOTSTRAP_PORT|none], got %d values", len(vals))
	}
	entry := []any{vals[0], nil}
	if len(vals) == 2 && strings.ToLower(vals[1]) != "none" {
		n, err := strconv.Atoi(vals[1])
		if err != nil {
			return fmt.Errorf("Invalid bootstrap port: %s. Must be a number or 'none'", vals[1])
		}
		entry[1] = n
	}
	prev, _ := values["prefill_urls"].([]any)
	values["prefill_urls"] = append(prev, entry)
	return nil
}

// toConfig overlays the parsed values on the CLI defaults and validates.
func toConfig(values map[string]any) (config.Config, error) {
	base, _ := json.Marshal(cliDefaults())
	var merged map[string]any
	_ = json.Unmarshal(base, &merged)
	for k, v := range values {
		merged[k] = v
	}
	data, _ := json.Marshal(merged)
	return config.Parse(data)
}

// flagTable describes every flag with its CLI default, for --print-flags.
func flagTable() []map[string]any {
	base, _ := json.Marshal(cliDefaults())
	var defaults map[string]any
	_ = json.Unmarshal(base, &defaults)
	out := make([]map[string]any, 0, len(flags))
	for _, f := range flags {
		out = append(out, map[string]any{"names": f.names, "key": f.key, "default": defaults[f.key]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i]["names"].([]string)[0] < out[j]["names"].([]string)[0] })
	return out
}
