package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseKeepsDefaultsForAbsentAndNullFields(t *testing.T) {
	c, err := Parse([]byte(`{"worker_urls":["http://a:1"],"log_level":null,"prometheus_port":null,"port":4000}`))
	if err != nil {
		t.Fatal(err)
	}
	d := Defaults()
	if c.Port != 4000 || c.LogLevel != "info" || c.PrometheusPort != d.PrometheusPort || c.Policy != d.Policy {
		t.Errorf("got %+v", c)
	}
	if c.MaxTreeSize != 1<<24 || c.MaxPayloadSize != 256<<20 || c.BalanceRelThreshold != 1.0001 {
		t.Errorf("defaults lost: %+v", c)
	}
}

func TestParsePrefillPairs(t *testing.T) {
	c, err := Parse([]byte(`{"pd_disaggregation":true,"prefill_urls":[["http://p:1",8998],["http://p:2",null],["http://p:3"]],"decode_urls":["http://d:1"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.PrefillURLs) != 3 || *c.PrefillURLs[0].BootstrapPort != 8998 || c.PrefillURLs[1].BootstrapPort != nil || c.PrefillURLs[2].BootstrapPort != nil {
		t.Errorf("prefill urls %+v", c.PrefillURLs)
	}
}

func TestValidationNamesTheField(t *testing.T) {
	cases := []struct {
		name, json, want string
	}{
		{"unknown field", `{"wrker_urls":[]}`, "wrker_urls"},
		{"bad policy", `{"policy":"fastest"}`, "policy"},
		{"cache threshold", `{"cache_threshold":1.5}`, "cache_threshold"},
		{"rel threshold", `{"balance_rel_threshold":0.5}`, "balance_rel_threshold"},
		{"url scheme", `{"worker_urls":["ftp://a"]}`, "worker_urls"},
		{"url host", `{"worker_urls":["http://"]}`, "missing host"},
		{"log level", `{"log_level":"loud"}`, "log_level"},
		{"pd needs prefill", `{"pd_disaggregation":true,"decode_urls":["http://d:1"]}`, "PD disaggregation mode requires --prefill"},
		{"pd needs decode", `{"pd_disaggregation":true,"prefill_urls":[["http://p:1"]]}`, "PD disaggregation mode requires --decode"},
		{"bootstrap port", `{"pd_disaggregation":true,"prefill_urls":[["http://p:1","x"]],"decode_urls":["http://d:1"]}`, "Invalid bootstrap port"},
		{"power of two", `{"policy":"power_of_two","worker_urls":["http://a:1"]}`, "Power-of-two policy requires at least 2 workers"},
		{"payload size", `{"max_payload_size":0}`, "max_payload_size"},
		{"dp_aware with discovery", `{"dp_aware":true,"service_discovery":true,"selector":{"app":"x"}}`, "DP-aware routing is not compatible with service discovery"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.json))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestPowerOfTwoWithDiscoveryNeedsNoStaticWorkers(t *testing.T) {
	if _, err := Parse([]byte(`{"policy":"power_of_two","service_discovery":true,"selector":{"app":"x"}}`)); err != nil {
		t.Fatal(err)
	}
}

func TestParseTreatsNullAsDefaultForListsAndMaps(t *testing.T) {
	c, err := Parse([]byte(`{"request_id_headers":null,"selector":null,"cors_allowed_origins":null,"worker_urls":null,"prefill_urls":null}`))
	if err != nil {
		t.Fatal(err)
	}
	d := Defaults()
	if !reflect.DeepEqual(c, d) {
		t.Errorf("null changed defaults:\n%+v\nwant\n%+v", c, d)
	}
	if len(c.RequestIDHeaders) != 4 {
		t.Errorf("request_id_headers %v", c.RequestIDHeaders)
	}
	empty, err := Parse([]byte(`{"request_id_headers":[]}`))
	if err != nil || empty.RequestIDHeaders == nil || len(empty.RequestIDHeaders) != 0 {
		t.Errorf("[] must mean an empty list: %v %v", empty.RequestIDHeaders, err)
	}
}

func TestParseRejectsNonObjects(t *testing.T) {
	for _, in := range []string{`null`, `[]`, `"x"`, `{`, ``} {
		if _, err := Parse([]byte(in)); err == nil || !strings.Contains(err.Error(), "JSON object") {
			t.Errorf("%q: error %v", in, err)
		}
	}
}
