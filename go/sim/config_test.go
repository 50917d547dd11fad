package sim

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseConfigDefaults(t *testing.T) {
	cfg, err := ParseConfig([]byte(`{"workers": 3, "role": "prefill", "time_scale": 0.01}`))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Host: "127.0.0.1", Workers: 3, Role: RolePrefill, Model: "sim-model", Tokenizer: TokenizerWords,
		VocabSize: 32000, CacheCapacityTokens: 1 << 18, BlockSize: 16, DPSize: 1, MaxRunningRequests: 64,
		PrefillTokensPerSec: 10000, DecodeTokensPerSec: 50, TimeScale: 0.01, DefaultMaxNewTokens: 128,
		LoadFormat: LoadFormatObject, BootstrapTimeoutMs: 30000, DisaggregationBootstrapPort: 8998,
	}
	got, _ := json.Marshal(cfg)
	exp, _ := json.Marshal(want)
	if string(got) != string(exp) {
		t.Fatalf("defaults\n got %s\nwant %s", got, exp)
	}
}

func TestParseConfigErrors(t *testing.T) {
	cases := []struct{ name, json, want string }{
		{"unknown field", `{"wokers": 2}`, `unknown field "wokers"`},
		{"bad role", `{"role": "both"}`, "role must be"},
		{"bad tokenizer", `{"tokenizer": "bpe"}`, "tokenizer must be"},
		{"negative time scale", `{"time_scale": -1}`, "time_scale"},
		{"fail rate above one", `{"fault_fail_rate": 1.5}`, "fault_fail_rate"},
		{"queue bound", `{"max_queue": -2}`, "max_queue"},
		{"ports beyond 65535", `{"base_port": 65535, "workers": 2}`, "base_port"},
		{"not JSON", `{`, "invalid config JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.json))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestNewServerRejectsInvalidConfig(t *testing.T) {
	if _, err := NewServer(Config{BlockSize: -1}, 0); err == nil {
		t.Fatal("no error for block_size -1")
	}
}
