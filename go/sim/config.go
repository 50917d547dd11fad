package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
)

// Roles a simulated server can play.
const (
	RoleRegular = "regular"
	RolePrefill = "prefill"
	RoleDecode  = "decode"
)

// Tokenizers (Config.Tokenizer).
const (
	TokenizerWords  = "words"  // one token per whitespace-separated word (long words cut every 16 bytes)
	TokenizerBytes4 = "bytes4" // one token per 4 bytes of the text, whitespace included
)

// Shapes of GET /get_load (Config.LoadFormat).
const (
	LoadFormatObject = "object" // {"load", "num_reqs", "num_waiting_reqs", "num_tokens", ...}
	LoadFormatList   = "list"   // [{"dp_rank": 0, "num_reqs", ...}] as newer SGLang answers
)

// Config describes one simulated SGLang server, or a cluster of identical
// ones. It crosses the C boundary as JSON (ParseConfig); zero values mean
// "the default" as listed on each field, so a caller sends only what it
// changes. Faults (the Fault* fields) apply to the servers listed in
// FaultWorkers, or to all of them when that list is empty.
type Config struct {
	Host     string `json:"host"`      // listen address; default 127.0.0.1
	BasePort int    `json:"base_port"` // server i listens on BasePort+i; 0 = free ports
	Workers  int    `json:"workers"`   // servers in a cluster; default 1
	Role     string `json:"role"`      // regular (default), prefill or decode
	Model    string `json:"model"`     // model name reported everywhere; default "sim-model"
	// Models, when set, gives each server of a cluster its model: server i
	// serves Models[i % len(Models)] (its model_path), so one cluster
	// stands for a deployment of several models.
	Models    []string `json:"models"`
	Tokenizer string   `json:"tokenizer"` // words (default) or bytes4
	VocabSize int      `json:"vocab_size"`

	CacheCapacityTokens int `json:"cache_capacity_tokens"` // prefix cache size (of each rank); default 262144, -1 = no cache
	// DPSize is the server's data-parallel size (SGLang --dp-size with
	// data-parallel attention): /get_server_info reports it, each rank has
	// its own prefix cache, and a request's data_parallel_rank picks the
	// rank (round robin without one). Default 1, at most 64.
	DPSize    int `json:"dp_size"`
	BlockSize int `json:"block_size"` // tokens per cache block; default 16

	MaxRunningRequests int `json:"max_running_requests"` // running batch bound; default 64
	// MaxQueue bounds the FIFO queue behind a full batch: 0 = unbounded
	// (SGLang's default), -1 = no queue (reject at once), N = at most N waiting.
	// A request beyond it gets 503.
	MaxQueue int `json:"max_queue"`

	PrefillTokensPerSec float64 `json:"prefill_tokens_per_sec"` // uncached prompt tokens/s of the whole server (one prefill lane); default 10000
	PrefillOverheadMs   float64 `json:"prefill_overhead_ms"`    // fixed cost per request's prefill; default 0
	DecodeTokensPerSec  float64 `json:"decode_tokens_per_sec"`  // per request, batch of one; default 50
	// DecodeBatchSlope makes a decode step slower as the batch grows:
	// step = (1/DecodeTokensPerSec) * (1 + slope*(running-1)). Default 0.
	DecodeBatchSlope float64 `json:"decode_batch_slope"`
	// TimeScale multiplies every simulated duration: 1 = real time, 0.01 = a
	// hundred times faster, 0 = no sleeping at all (instant answers).
	TimeScale float64 `json:"time_scale"`
	Seed      uint64  `json:"seed"`

	DefaultMaxNewTokens int    `json:"default_max_new_tokens"` // /generate and chat; default 128 (completions: 16)
	LoadFormat          string `json:"load_format"`            // object (default) or list

	// PD. A prefill server i listens for bootstrap queries on
	// BootstrapPort+i (0 = free ports). A decode server waits at most
	// BootstrapTimeoutMs for the prefill of its room; default 30000.
	BootstrapPort      int     `json:"bootstrap_port"`
	BootstrapTimeoutMs float64 `json:"bootstrap_timeout_ms"`
	// DisaggregationBootstrapPort is the port a decode server assumes when
	// the router sends "bootstrap_port": null (a prefill listed with
	// "none"), as SGLang does with --disaggregation-bootstrap-port; default 8998.
	DisaggregationBootstrapPort int `json:"disaggregation_bootstrap_port"`

	// Access control, on every server.
	APIKey          string `json:"api_key"`           // require "Authorization: Bearer KEY" (401 otherwise)
	MaxPayloadBytes int64  `json:"max_payload_bytes"` // 413 above it; 0 = no limit

	// Fault injection.
	FaultWorkers         []int   `json:"fault_workers"`               // indexes the faults apply to; empty = all
	FaultLatencyMs       float64 `json:"fault_latency_ms"`            // added to every request; not scaled
	FaultFailRate        float64 `json:"fault_fail_rate"`             // chance of a 500 per generation request (seeded)
	FaultFailFirstN      int     `json:"fault_fail_first_n"`          // first N generation requests answer 500
	FaultHang            bool    `json:"fault_hang"`                  // generation requests never answer
	FaultCrashAfterN     int     `json:"fault_crash_after_n"`         // after N generation requests the server dies
	FaultHealthFailAfter float64 `json:"fault_health_fail_after_sec"` // /health answers 503 from then on
}

// ParseConfig decodes a JSON Config, rejecting unknown fields, then
// applies defaults and validates it.
func ParseConfig(data []byte) (Config, error) {
	var cfg Config
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, fmt.Errorf("sim: invalid config JSON: %w", err)
	}
	cfg = cfg.WithDefaults()
	return cfg, cfg.Validate()
}

// WithDefaults returns c with every zero field replaced by its default.
func (c Config) WithDefaults() Config {
	setStr(&c.Host, "127.0.0.1")
	setStr(&c.Role, RoleRegular)
	setStr(&c.Model, "sim-model")
	setStr(&c.Tokenizer, TokenizerWords)
	setStr(&c.LoadFormat, LoadFormatObject)
	setInt(&c.Workers, 1)
	setInt(&c.VocabSize, 32000)
	setInt(&c.CacheCapacityTokens, 1<<18)
	setInt(&c.BlockSize, 16)
	setInt(&c.DPSize, 1)
	setInt(&c.MaxRunningRequests, 64)
	setInt(&c.DefaultMaxNewTokens, 128)
	setFloat(&c.PrefillTokensPerSec, 10000)
	setFloat(&c.DecodeTokensPerSec, 50)
	setFloat(&c.BootstrapTimeoutMs, 30000)
	setInt(&c.DisaggregationBootstrapPort, 8998)
	return c
}

// Validate reports the first invalid field by its JSON name.
func (c Config) Validate() error {
	checks := []struct {
		bad bool
		msg string
	}{
		{c.Role != RoleRegular && c.Role != RolePrefill && c.Role != RoleDecode, "role must be regular, prefill or decode, got " + c.Role},
		{c.Tokenizer != TokenizerWords && c.Tokenizer != TokenizerBytes4, "tokenizer must be words or bytes4, got " + c.Tokenizer},
		{c.LoadFormat != LoadFormatObject && c.LoadFormat != LoadFormatList, "load_format must be object or list, got " + c.LoadFormat},
		{c.Workers < 1 || c.Workers > 1024, "workers must be in [1, 1024]"},
		{c.BasePort < 0 || c.BasePort+c.Workers-1 > 65535, "base_port out of range"},
		{c.BootstrapPort < 0 || c.BootstrapPort+c.Workers-1 > 65535, "bootstrap_port out of range"},
		{c.DisaggregationBootstrapPort < 1 || c.DisaggregationBootstrapPort > 65535, "disaggregation_bootstrap_port out of range"},
		{c.VocabSize < 2, "vocab_size must be >= 2"},
		{c.BlockSize < 1, "block_size must be >= 1"},
		{c.DPSize < 1 || c.DPSize > maxDPSize, "dp_size must be in [1, 64]"},
		{c.CacheCapacityTokens < -1, "cache_capacity_tokens must be -1 (no cache), 0 (default) or positive"},
		{c.MaxRunningRequests < 1, "max_running_requests must be >= 1"},
		{c.MaxQueue < -1, "max_queue must be -1 (no queue), 0 (unbounded) or a positive bound"},
		{!positive(c.PrefillTokensPerSec), "prefill_tokens_per_sec must be > 0"},
		{!positive(c.DecodeTokensPerSec), "decode_tokens_per_sec must be > 0"},
		{!nonNegative(c.PrefillOverheadMs), "prefill_overhead_ms must be >= 0"},
		{!nonNegative(c.DecodeBatchSlope), "decode_batch_slope must be >= 0"},
		{!nonNegative(c.TimeScale), "time_scale must be >= 0"},
		{c.DefaultMaxNewTokens < 0, "default_max_new_tokens must be >= 0"},
		{!positive(c.BootstrapTimeoutMs), "bootstrap_timeout_ms must be > 0"},
		{c.MaxPayloadBytes < 0, "max_payload_bytes must be >= 0"},
		{!nonNegative(c.FaultLatencyMs), "fault_latency_ms must be >= 0"},
		{!(c.FaultFailRate >= 0 && c.FaultFailRate <= 1), "fault_fail_rate must be in [0, 1]"},
		{c.FaultFailFirstN < 0, "fault_fail_first_n must be >= 0"},
		{c.FaultCrashAfterN < 0, "fault_crash_after_n must be >= 0"},
		{!nonNegative(c.FaultHealthFailAfter), "fault_health_fail_after_sec must be >= 0"},
	}
	for _, ch := range checks {
		if ch.bad {
			return fmt.Errorf("sim: %s", ch.msg)
		}
	}
	return nil
}

// faultsFor reports whether the fault fields apply to server index.
func (c Config) faultsFor(index int) bool {
	if len(c.FaultWorkers) == 0 {
		return true
	}
	for _, i := range c.FaultWorkers {
		if i == index {
			return true
		}
	}
	return false
}

func setStr(p *string, def string) {
	if *p == "" {
		*p = def
	}
}

func setInt(p *int, def int) {
	if *p == 0 {
		*p = def
	}
}

func setFloat(p *float64, def float64) {
	if *p == 0 {
		*p = def
	}
}

func positive(f float64) bool    { return f > 0 && !math.IsInf(f, 0) }
func nonNegative(f float64) bool { return f >= 0 && !math.IsInf(f, 0) }
