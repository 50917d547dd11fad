package config

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestParseArgsMatchesLaunchRouter(t *testing.T) {
	c, err := ParseArgs(strings.Fields(
		"--worker-urls http://a:1 http://b:2 --policy round_robin --port 4000 --eviction-interval 9 " +
			"--selector app=sglang role=x=y --verbose --request-id-headers x-a x-b --disable-retries --retry-jitter-factor=0.5"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.WorkerURLs) != 2 || c.Policy != "round_robin" || c.Port != 4000 || c.EvictionIntervalSecs != 9 {
		t.Errorf("parsed %+v", c)
	}
	if c.Selector["app"] != "sglang" || c.Selector["role"] != "x=y" || c.LogLevel != "debug" || !c.DisableRetries {
		t.Errorf("parsed %+v", c)
	}
	if !reflect.DeepEqual(c.RequestIDHeaders, []string{"x-a", "x-b"}) || c.RetryJitterFactor != 0.5 {
		t.Errorf("request id headers %v, jitter %v", c.RequestIDHeaders, c.RetryJitterFactor)
	}
}

// noKeysInEnv clears the access-key variables, which Parse and ParseArgs read.
func noKeysInEnv(t *testing.T) {
	t.Setenv(EnvAdminAPIKey, "")
	t.Setenv(EnvClientAPIKeys, "")
}

func TestCLIDefaultsDifferFromTheClassOnlyInPortAndPolicy(t *testing.T) {
	noKeysInEnv(t)
	c, err := ParseArgs(nil)
	if err != nil {
		t.Fatal(err)
	}
	d := Defaults()
	d.Port, d.Policy = 30000, PolicyCacheAware
	if !reflect.DeepEqual(c, d) {
		t.Errorf("CLI defaults %+v\nwant %+v", c, d)
	}
}

func TestParseArgsPD(t *testing.T) {
	c, err := ParseArgs(strings.Fields("--pd-disaggregation --prefill http://p:1 8998 --prefill http://p:2 none --prefill http://p:3 --decode http://d:1 --decode http://d:2"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.PrefillURLs) != 3 || *c.PrefillURLs[0].BootstrapPort != 8998 || c.PrefillURLs[1].BootstrapPort != nil || len(c.DecodeURLs) != 2 {
		t.Errorf("parsed %+v %+v", c.PrefillURLs, c.DecodeURLs)
	}
}

func TestAccessAndTreeMemoryFlags(t *testing.T) {
	noKeysInEnv(t)
	c, err := ParseArgs(strings.Fields("--admin-api-key adm --client-api-keys c1 c2 --max-tree-memory-mb 64"))
	if err != nil {
		t.Fatal(err)
	}
	if c.AdminAPIKey != "adm" || strings.Join(c.ClientAPIKeys, ",") != "c1,c2" || c.MaxTreeMemoryMB != 64 {
		t.Errorf("parsed admin %q clients %q memory %d", c.AdminAPIKey, c.ClientAPIKeys, c.MaxTreeMemoryMB)
	}
	t.Setenv(EnvAdminAPIKey, "from-env")
	t.Setenv(EnvClientAPIKeys, "e1,e2")
	if c, err := ParseArgs(nil); err != nil || c.AdminAPIKey != "from-env" || strings.Join(c.ClientAPIKeys, ",") != "e1,e2" {
		t.Errorf("keys from the environment: %q %q %v", c.AdminAPIKey, c.ClientAPIKeys, err)
	}
	if c, err := ParseArgs(strings.Fields("--admin-api-key flag")); err != nil || c.AdminAPIKey != "flag" {
		t.Errorf("a flag must win over the environment: %q %v", c.AdminAPIKey, err)
	}
	spec, _ := json.Marshal(NewSpec())
	if strings.Contains(string(spec), "from-env") {
		t.Error("the spec (Python's defaults, --help) shows a key from the environment")
	}
}

func TestParseArgsErrors(t *testing.T) {
	cases := map[string]string{
		"--prefill http://p:1 abc --decode http://d:1 --pd-disaggregation": "Invalid bootstrap port: abc. Must be a number or 'none'",
		"--pd-disaggregation --decode http://d:1":                          "PD disaggregation mode requires --prefill",
		"--policy power_of_two --worker-urls http://a:1":                   "Power-of-two policy requires at least 2 workers",
		"--selector novalue":                "expected key=value",
		"--no-such-flag":                    "unrecognized argument",
		"--port abc":                        "--port",
		"--policy fastest":                  "invalid choice",
		"--worker-urls grpc://w:1":          "grpc:// workers",
		"--enable-igw":                      "enable_igw",
		"--backend openai":                  "OpenAI-compatible",
		"--history-backend oracle":          "history_backend",
		"--prefill-policy bucket":           "bucket policy",
		"--enable-trace":                    "OpenTelemetry",
		"--mcp-config-path m.yaml":          "MCP",
		"--retry-backoff-multiplier 0.5":    "retry_backoff_multiplier",
		"--retry-jitter-factor 2":           "retry_jitter_factor",
		"--cb-window-duration-secs 0":       "cb_window_duration_secs",
		"--rate-limit-tokens-per-second -3": "rate_limit_tokens_per_second",
		"--health-check-endpoint health":    "health_check_endpoint",
		"--service-discovery":               "requires a non-empty selector",
		"--client-cert-path c.pem":          "client_key_path",
		"--retry-max-backoff-ms 10":         "retry_max_backoff_ms",
		"--disable-retries yes":             "unrecognized argument: yes",
	}
	for args, want := range cases {
		_, err := ParseArgs(strings.Fields(args))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", args, err, want)
		}
	}
}

func TestEveryConfigKeyHasExactlyOneFlag(t *testing.T) {
	seen := map[string]bool{}
	names := map[string]bool{}
	for _, f := range Flags() {
		if f.Key != "" {
			if seen[f.Key] {
				t.Errorf("key %s has two flags", f.Key)
			}
			seen[f.Key] = true
		}
		for _, n := range f.Names {
			if names[n] {
				t.Errorf("flag name %s used twice", n)
			}
			names[n] = true
		}
		if f.Help == "" || f.Group == "" {
			t.Errorf("flag %v lacks help or group", f.Names)
		}
	}
	for key := range fieldTypes() {
		if !seen[key] && !internalKeys[key] {
			t.Errorf("config key %s has no flag (add it to flagTable in flags.go)", key)
		}
	}
}

func TestSpecDefaultsAreWhatParseGivesForAnEmptyObject(t *testing.T) {
	noKeysInEnv(t)
	spec := NewSpec()
	data, _ := json.Marshal(spec.Defaults)
	c, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, Defaults()) {
		t.Errorf("round trip of the spec defaults changed them: %+v", c)
	}
	if spec.CLIDefaults["port"] != 30000.0 || spec.Defaults["port"] != 3001.0 {
		t.Errorf("ports %v %v", spec.CLIDefaults["port"], spec.Defaults["port"])
	}
}

func TestIgnoredNamesInertSettingsThatWereSet(t *testing.T) {
	c, err := Parse([]byte(`{"model_path":"m","oracle_pool_max":3,"mini_lb":true}`))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(c.Ignored(), "\n")
	for _, want := range []string{"model_path has no effect", "oracle_pool_max has no effect", "mini_lb"} {
		if !strings.Contains(got, want) {
			t.Errorf("Ignored() = %q, want %q", got, want)
		}
	}
	d := Defaults()
	if len(d.Ignored()) != 0 {
		t.Errorf("defaults report %v", d.Ignored())
	}
}
