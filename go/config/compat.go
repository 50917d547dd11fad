package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// Compat holds the options of the original router's 0.2.x line that select
// features this router does not have. Scripts written for that line keep
// working as long as they do not turn such a feature on:
//
//   - Turning one on is refused by Validate with a message that says what
//     is missing (enable_igw, backend "openai", history_backend oracle or
//     postgres, mcp_config_path, enable_trace, the "bucket" prefill policy),
//     never accepted and ignored.
//   - mini_lb is an alias: the original's MiniLB was a minimal Python PD
//     load balancer; this router serves PD itself.
//   - The tokenizer and parser options (model_path, tokenizer_path,
//     chat_template, reasoning_parser, tool_call_parser, tokenizer_cache_*)
//     configure the original's gRPC mode (grpc:// workers), which is refused;
//     with HTTP workers the original does not use them either. Like the
//     settings of a refused feature (otlp_traces_endpoint, oracle_*,
//     postgres_*, bucket_adjust_interval_secs) they change nothing, and the
//     router says so at startup (Ignored).
type Compat struct {
	MiniLB                     bool   `json:"mini_lb"`
	EnableIGW                  bool   `json:"enable_igw"`
	Backend                    string `json:"backend"`
	HistoryBackend             string `json:"history_backend"`
	MCPConfigPath              string `json:"mcp_config_path"`
	EnableTrace                bool   `json:"enable_trace"`
	OTLPTracesEndpoint         string `json:"otlp_traces_endpoint"`
	BucketAdjustIntervalSecs   int    `json:"bucket_adjust_interval_secs"`
	ModelPath                  string `json:"model_path"`
	TokenizerPath              string `json:"tokenizer_path"`
	ChatTemplate               string `json:"chat_template"`
	ReasoningParser            string `json:"reasoning_parser"`
	ToolCallParser             string `json:"tool_call_parser"`
	TokenizerCacheEnableL0     bool   `json:"tokenizer_cache_enable_l0"`
	TokenizerCacheL0MaxEntries int    `json:"tokenizer_cache_l0_max_entries"`
	TokenizerCacheEnableL1     bool   `json:"tokenizer_cache_enable_l1"`
	TokenizerCacheL1MaxMemory  int    `json:"tokenizer_cache_l1_max_memory"`
	OracleWalletPath           string `json:"oracle_wallet_path"`
	OracleTNSAlias             string `json:"oracle_tns_alias"`
	OracleConnectDescriptor    string `json:"oracle_connect_descriptor"`
	OracleUsername             string `json:"oracle_username"`
	OraclePassword             string `json:"oracle_password"`
	OraclePoolMin              int    `json:"oracle_pool_min"`
	OraclePoolMax              int    `json:"oracle_pool_max"`
	OraclePoolTimeoutSecs      int    `json:"oracle_pool_timeout_secs"`
	PostgresDBURL              string `json:"postgres_db_url"`
	PostgresPoolMax            int    `json:"postgres_pool_max"`
}

// PolicyBucket is the original's prefill policy from 0.2.3, not available here.
const PolicyBucket = "bucket"

// compatDefaults are the 0.2.x line's defaults.
func compatDefaults() Compat {
	return Compat{
		Backend:                    "sglang",
		HistoryBackend:             "memory",
		OTLPTracesEndpoint:         "localhost:4317",
		BucketAdjustIntervalSecs:   5,
		TokenizerCacheL0MaxEntries: 10000,
		TokenizerCacheL1MaxMemory:  50 << 20,
		OraclePoolMin:              1,
		OraclePoolMax:              16,
		OraclePoolTimeoutSecs:      30,
		PostgresPoolMax:            16,
	}
}

// refused lists the features of the 0.2.x line that this configuration
// turns on and this router does not have.
func (c *Config) refused() []error {
	var errs []error
	no := func(what string) { errs = append(errs, errors.New(what)) }
	if c.EnableIGW {
		no("enable_igw: the multi-model gateway mode (IGW) of the original router is not supported by this router")
	}
	switch c.Backend {
	case "sglang":
	case "openai":
		no("backend: \"openai\" (proxying to an OpenAI-compatible API) is not supported by this router; it routes to SGLang workers")
	default:
		no(fmt.Sprintf("backend: unknown backend %q (choose from sglang)", c.Backend))
	}
	switch c.HistoryBackend {
	case "memory", "none": // this router stores no conversations: both mean the same here
	case "oracle", "postgres":
		no(fmt.Sprintf("history_backend: %q storage for the /v1/responses and conversation APIs is not supported by this router (it has no such APIs)", c.HistoryBackend))
	default:
		no(fmt.Sprintf("history_backend: unknown backend %q (choose from memory, none)", c.HistoryBackend))
	}
	if c.MCPConfigPath != "" {
		no("mcp_config_path: MCP tool servers (used by the /v1/responses API) are not supported by this router")
	}
	if c.EnableTrace {
		no("enable_trace: OpenTelemetry tracing is not supported by this router (use --request-id-headers and the logs to follow a request)")
	}
	for _, p := range []struct{ field, value string }{{"policy", c.Policy}, {"prefill_policy", c.PrefillPolicy}, {"decode_policy", c.DecodePolicy}} {
		if p.value == PolicyBucket {
			no(fmt.Sprintf("%s: the bucket policy (sglang-router 0.2.3+) is not available in this router; choose from %s", p.field, strings.Join(Policies, ", ")))
		}
	}
	return errs
}

// inert names the Compat settings that change nothing: they take effect only
// with a feature that is refused (or, for the tokenizer options, with the
// original's gRPC mode).
var inert = map[string]string{
	"otlp_traces_endpoint":           "used only with enable_trace",
	"bucket_adjust_interval_secs":    "used only by the bucket policy",
	"model_path":                     "used only by the original's gRPC mode (grpc:// workers)",
	"tokenizer_path":                 "used only by the original's gRPC mode (grpc:// workers)",
	"chat_template":                  "used only by the original's gRPC mode (grpc:// workers)",
	"reasoning_parser":               "used only by the original's gRPC mode (grpc:// workers)",
	"tool_call_parser":               "used only by the original's gRPC mode (grpc:// workers)",
	"tokenizer_cache_enable_l0":      "used only by the original's gRPC mode (grpc:// workers)",
	"tokenizer_cache_l0_max_entries": "used only by the original's gRPC mode (grpc:// workers)",
	"tokenizer_cache_enable_l1":      "used only by the original's gRPC mode (grpc:// workers)",
	"tokenizer_cache_l1_max_memory":  "used only by the original's gRPC mode (grpc:// workers)",
	"oracle_wallet_path":             "used only with history_backend oracle",
	"oracle_tns_alias":               "used only with history_backend oracle",
	"oracle_connect_descriptor":      "used only with history_backend oracle",
	"oracle_username":                "used only with history_backend oracle",
	"oracle_password":                "used only with history_backend oracle",
	"oracle_pool_min":                "used only with history_backend oracle",
	"oracle_pool_max":                "used only with history_backend oracle",
	"oracle_pool_timeout_secs":       "used only with history_backend oracle",
	"postgres_db_url":                "used only with history_backend postgres",
	"postgres_pool_max":              "used only with history_backend postgres",
}

// Ignored returns one line per inert setting that differs from its
// default, and one for mini_lb, for the router to log at startup.
func (c *Config) Ignored() []string {
	var out []string
	if c.MiniLB {
		out = append(out, "mini_lb: this router serves prefill/decode itself; the original's Python MiniLB is not needed")
	}
	have, def := reflect.ValueOf(c.Compat), reflect.ValueOf(compatDefaults())
	for i := 0; i < have.NumField(); i++ {
		key := jsonName(have.Type().Field(i))
		why, ok := inert[key]
		if ok && !have.Field(i).Equal(def.Field(i)) {
			out = append(out, fmt.Sprintf("%s has no effect in this router: %s", key, why))
		}
	}
	return out
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}
