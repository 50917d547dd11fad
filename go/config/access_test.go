package config

import (
	"strings"
	"testing"
)

func TestAccessKeysComeFromTheEnvironmentWhenNotGiven(t *testing.T) {
	t.Setenv(EnvAdminAPIKey, "admin-from-env")
	t.Setenv(EnvClientAPIKeys, " k1 ,k2,, ")
	c, err := Parse([]byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.AdminAPIKey != "admin-from-env" || strings.Join(c.ClientAPIKeys, "|") != "k1|k2" {
		t.Errorf("from env: admin %q clients %q", c.AdminAPIKey, c.ClientAPIKeys)
	}
	c, err = Parse([]byte(`{"admin_api_key":"given","client_api_keys":["c"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.AdminAPIKey != "given" || strings.Join(c.ClientAPIKeys, "|") != "c" {
		t.Errorf("explicit values must win over the environment: %q %q", c.AdminAPIKey, c.ClientAPIKeys)
	}
}

func TestDefaultsDoNotReadTheEnvironment(t *testing.T) {
	t.Setenv(EnvAdminAPIKey, "secret")
	if Defaults().AdminAPIKey != "" {
		t.Error("Defaults() read the admin key: --help and --print-flags would show it")
	}
}

func TestInvalidAccessKeysAreNamedButNotQuoted(t *testing.T) {
	noKeysInEnv(t)
	cases := []struct{ name, json, want string }{
		{"space in admin key", `{"admin_api_key":"se cret"}`, "admin_api_key: character 3"},
		{"non-ASCII client key", `{"client_api_keys":["ok","sécret"]}`, "client_api_keys: entry 2: character 2"},
		{"empty client key", `{"client_api_keys":[""]}`, "client_api_keys: entry 1: is empty"},
		{"client key opens admin", `{"admin_api_key":"same-key","client_api_keys":["same-key"]}`, "equals admin_api_key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.json))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to mention %q", err, tc.want)
			}
			for _, secret := range []string{"se cret", "sécret", "same-key"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error quotes the key: %v", err)
				}
			}
		})
	}
}

func TestWorkerURLsAreNormalisedAndDuplicatesRefused(t *testing.T) {
	_, err := Parse([]byte(`{"worker_urls":["http://h","HTTP://H:80/"]}`))
	if err == nil || !strings.Contains(err.Error(), "are one worker, http://h:80") {
		t.Fatalf("duplicate spellings: %v", err)
	}
	_, err = Parse([]byte(`{"pd_disaggregation":true,"prefill_urls":[["http://x:1"]],"decode_urls":["http://x:1/"]}`))
	if err == nil || !strings.Contains(err.Error(), "decode_urls") {
		t.Fatalf("one server as prefill and decode: %v", err)
	}
	for _, bad := range []string{`"http://u:p@h:1"`, `"http://h:1?x=1"`, `"http://h:1#f"`} {
		_, err := Parse([]byte(`{"worker_urls":[` + bad + `]}`))
		if err == nil || !strings.Contains(err.Error(), "worker_urls") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestMaxTreeMemory(t *testing.T) {
	c, err := Parse([]byte(`{}`))
	if err != nil || c.MaxTreeMemoryMB != 256 {
		t.Fatalf("default: %d %v", c.MaxTreeMemoryMB, err)
	}
	for _, bad := range []string{"0", "-1", "1048577", "9000000000000"} {
		if _, err := Parse([]byte(`{"max_tree_memory_mb":` + bad + `}`)); err == nil || !strings.Contains(err.Error(), "max_tree_memory_mb") {
			t.Errorf("budget %s: %v", bad, err)
		}
	}
}

func TestSessionHeader(t *testing.T) {
	c, err := Parse([]byte(`{}`))
	if err != nil || c.SessionHeader != "x-session-id" || c.DecisionHeaders {
		t.Fatalf("defaults: %q %v %v", c.SessionHeader, c.DecisionHeaders, err)
	}
	for _, ok := range []string{"", "X-Conversation", "x_user.id"} {
		if _, err := Parse([]byte(`{"session_header":"` + ok + `"}`)); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	if c.LoadPollIntervalMs != 200 {
		t.Errorf("load_poll_interval_ms default %d", c.LoadPollIntervalMs)
	}
	for _, bad := range []string{"-1", "3600001"} {
		if _, err := Parse([]byte(`{"load_poll_interval_ms":` + bad + `}`)); err == nil || !strings.Contains(err.Error(), "load_poll_interval_ms") {
			t.Errorf("poll interval %s: %v", bad, err)
		}
	}
	for _, bad := range []string{"x session", "x:y", "é", "a\\n"} {
		if _, err := Parse([]byte(`{"session_header":"` + bad + `"}`)); err == nil || !strings.Contains(err.Error(), "session_header") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestMaxAnswerInsertBytes(t *testing.T) {
	c, err := Parse([]byte(`{}`))
	if err != nil || c.MaxAnswerInsertBytes != 65536 {
		t.Fatalf("default: %d %v", c.MaxAnswerInsertBytes, err)
	}
	for _, ok := range []string{"0", "1", "67108864"} {
		if _, err := Parse([]byte(`{"max_answer_insert_bytes":` + ok + `}`)); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"-1", "67108865"} {
		_, err := Parse([]byte(`{"max_answer_insert_bytes":` + bad + `}`))
		if err == nil || !strings.Contains(err.Error(), "max_answer_insert_bytes: "+bad+" must be between 0 (off) and 67108864") {
			t.Errorf("%s: %v", bad, err)
		}
	}
	c, err = ParseArgs(strings.Fields("--worker-urls http://w:1 --max-answer-insert-bytes 0"))
	if err != nil || c.MaxAnswerInsertBytes != 0 {
		t.Errorf("flag: %d %v", c.MaxAnswerInsertBytes, err)
	}
	if _, err := ParseArgs(strings.Fields("--worker-urls http://w:1 --max-answer-insert-bytes -5")); err == nil || !strings.Contains(err.Error(), "max_answer_insert_bytes") {
		t.Errorf("negative flag: %v", err)
	}
}
