package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseArgsMatchesLaunchRouter(t *testing.T) {
	c, err := parseArgs(strings.Fields(
		"--worker-urls http://a:1 http://b:2 --policy round_robin --port 4000 --eviction-interval-secs 9 " +
			"--selector app=sglang role=x=y --verbose --request-id-headers x-a x-b --disable-retries"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.WorkerURLs) != 2 || c.Policy != "round_robin" || c.Port != 4000 || c.EvictionIntervalSecs != 9 {
		t.Errorf("parsed %+v", c)
	}
	if c.Selector["app"] != "sglang" || c.Selector["role"] != "x=y" || c.LogLevel != "debug" || !c.DisableRetries {
		t.Errorf("parsed %+v", c)
	}
	if len(c.RequestIDHeaders) != 2 {
		t.Errorf("request id headers %v", c.RequestIDHeaders)
	}
}

func TestCLIDefaultsDifferFromTheClass(t *testing.T) {
	c, err := parseArgs(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 30000 || c.Policy != "cache_aware" || c.Host != "127.0.0.1" {
		t.Errorf("defaults %+v", c)
	}
}

func TestParsePD(t *testing.T) {
	c, err := parseArgs(strings.Fields("--pd-disaggregation --prefill http://p:1 8998 --prefill http://p:2 none --prefill http://p:3 --decode http://d:1 --decode http://d:2"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.PrefillURLs) != 3 || *c.PrefillURLs[0].BootstrapPort != 8998 || c.PrefillURLs[1].BootstrapPort != nil || len(c.DecodeURLs) != 2 {
		t.Errorf("parsed %+v %+v", c.PrefillURLs, c.DecodeURLs)
	}
}

func TestParseErrors(t *testing.T) {
	cases := map[string]string{
		"--prefill http://p:1 abc --decode http://d:1 --pd-disaggregation": "Invalid bootstrap port: abc. Must be a number or 'none'",
		"--pd-disaggregation --decode http://d:1":                          "PD disaggregation mode requires --prefill",
		"--policy power_of_two --worker-urls http://a:1":                   "Power-of-two policy requires at least 2 workers",
		"--selector novalue": "expected key=value",
		"--no-such-flag":     "unrecognized argument",
		"--port abc":         "--port",
	}
	for args, want := range cases {
		_, err := parseArgs(strings.Fields(args))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", args, err, want)
		}
	}
}

func TestHelpAndBadArgsExitCodes(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"--help"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "--worker-urls") {
		t.Fatalf("help: %d %s", code, out.String())
	}
	if code := run([]string{"--cache-threshold", "3"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "cache_threshold") {
		t.Fatalf("bad value: %d %s", code, errb.String())
	}
}

func TestAccessAndTreeMemoryFlags(t *testing.T) {
	t.Setenv("SGLANG_ROUTER_ADMIN_API_KEY", "")
	t.Setenv("SGLANG_ROUTER_CLIENT_API_KEYS", "")
	c, err := parseArgs(strings.Fields("--admin-api-key adm --client-api-keys c1 c2 --max-tree-memory-mb 64"))
	if err != nil {
		t.Fatal(err)
	}
	if c.AdminAPIKey != "adm" || strings.Join(c.ClientAPIKeys, ",") != "c1,c2" || c.MaxTreeMemoryMB != 64 {
		t.Errorf("parsed admin %q clients %q memory %d", c.AdminAPIKey, c.ClientAPIKeys, c.MaxTreeMemoryMB)
	}
	t.Setenv("SGLANG_ROUTER_ADMIN_API_KEY", "from-env")
	if c, err := parseArgs(nil); err != nil || c.AdminAPIKey != "from-env" {
		t.Errorf("admin key from the environment: %q %v", c.AdminAPIKey, err)
	}
	var out, errb bytes.Buffer
	if run([]string{"--help"}, &out, &errb); strings.Contains(out.String(), "from-env") {
		t.Error("--help shows the admin key from the environment")
	}
}
