package router

import (
	"net/http"
	"strings"
	"testing"
)

var adminRoutes = []struct{ method, path string }{
	{"POST", "/add_worker?url=http://127.0.0.1:1"},
	{"POST", "/remove_worker?url=http://127.0.0.1:1"},
	{"POST", "/flush_cache"},
	{"GET", "/list_workers"},
	{"GET", "/get_loads"},
}

func TestAdminKeyGuardsAdminRoutesOnly(t *testing.T) {
	opts := testOptions()
	opts.AdminAPIKey = "admin-key-0123456789"
	f := newFixture(t, opts, "w0")
	for _, r := range adminRoutes {
		for _, auth := range []string{"", "Bearer wrong", "Bearer admin-key-012345678", "Bearer admin-key-01234567890", "Basic admin-key-0123456789", "admin-key-0123456789"} {
			resp, body := f.do(r.method, r.path, "", "Authorization", auth)
			if resp.StatusCode != 401 || !strings.Contains(body, "admin key") || resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s with %q: %d %s; want 401 with a challenge", r.method, r.path, auth, resp.StatusCode, body)
			}
		}
		resp, body := f.do(r.method, r.path, "", "Authorization", "bearer admin-key-0123456789")
		if resp.StatusCode == 401 || resp.StatusCode == 403 {
			t.Errorf("%s %s with the key: %d %s", r.method, r.path, resp.StatusCode, body)
		}
	}
	if len(f.admin.specs) != 1 {
		t.Errorf("the app saw %d adds; only the authorised one should reach it", len(f.admin.specs))
	}
	for _, path := range []string{"/health", "/liveness", "/readiness", "/v1/models"} {
		if resp, _ := f.do("GET", path, ""); resp.StatusCode != 200 {
			t.Errorf("%s needs no key without client keys: %d", path, resp.StatusCode)
		}
	}
	if resp, _ := f.do("POST", "/generate", `{"text":"a"}`); resp.StatusCode != 200 {
		t.Errorf("generate without client keys: %d", resp.StatusCode)
	}
}

func TestClientKeysGuardRequestRoutesAndNeverReachWorkers(t *testing.T) {
	opts := testOptions()
	opts.ClientAPIKeys = []string{"client-a", "client-b"}
	opts.APIKey = "router-to-worker"
	f := newFixture(t, opts, "w0")
	for _, auth := range []string{"", "Bearer client-c", "Bearer client-", "Bearer router-to-worker"} {
		if resp, body := f.do("POST", "/generate", `{"text":"a"}`, "Authorization", auth); resp.StatusCode != 401 || !strings.Contains(body, "API key") {
			t.Errorf("generate with %q: %d %s", auth, resp.StatusCode, body)
		}
		if resp, _ := f.do("GET", "/v1/models", "", "Authorization", auth); resp.StatusCode != 401 {
			t.Errorf("/v1/models with %q: %d", auth, resp.StatusCode)
		}
	}
	if n := len(f.workers[0].Requests()); n != 0 {
		t.Fatalf("unauthorised requests reached the worker %d times", n)
	}
	for _, key := range opts.ClientAPIKeys {
		if resp, body := f.do("POST", "/v1/chat/completions", `{"messages":[{"role":"user","content":"hi"}]}`, "Authorization", "Bearer "+key); resp.StatusCode != 200 {
			t.Fatalf("chat with %s: %d %s", key, resp.StatusCode, body)
		}
	}
	for _, req := range f.workers[0].Requests() {
		if got := req.Header.Values("Authorization"); len(got) != 1 || got[0] != "Bearer router-to-worker" {
			t.Errorf("worker saw Authorization %q; want only the router's key", got)
		}
	}
	for _, path := range []string{"/health", "/liveness", "/readiness", "/health_generate"} {
		if resp, _ := f.do("GET", path, ""); resp.StatusCode != 200 {
			t.Errorf("%s must stay open: %d", path, resp.StatusCode)
		}
	}
	if resp, _ := f.do("GET", "/list_workers", ""); resp.StatusCode != 200 {
		t.Errorf("without an admin key admin routes stay open: %d", resp.StatusCode)
	}
}

func TestClientKeyIsNotForwardedEvenWithoutARouterKey(t *testing.T) {
	opts := testOptions()
	opts.ClientAPIKeys = []string{"client-a"}
	f := newFixture(t, opts, "w0")
	if resp, _ := f.do("POST", "/generate", `{"text":"a"}`, "Authorization", "Bearer client-a"); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if got := f.workers[0].Requests()[0].Header.Get("Authorization"); got != "" {
		t.Errorf("worker saw the client's key %q", got)
	}
}

func TestWithoutClientKeysTheClientsAuthorizationIsForwarded(t *testing.T) {
	opts := testOptions()
	opts.APIKey = "router-to-worker"
	f := newFixture(t, opts, "w0")
	f.do("POST", "/generate", `{"text":"a"}`, "Authorization", "Bearer users-own-worker-key")
	f.do("POST", "/generate", `{"text":"a"}`)
	reqs := f.workers[0].Requests()
	if got := reqs[0].Header.Get("Authorization"); got != "Bearer users-own-worker-key" {
		t.Errorf("with a client Authorization the worker saw %q", got)
	}
	if got := reqs[1].Header.Get("Authorization"); got != "Bearer router-to-worker" {
		t.Errorf("without one the worker saw %q; want the router's key", got)
	}
}

func TestCORSNeverAppliesToAdminRoutes(t *testing.T) {
	opts := testOptions()
	opts.CORSAllowedOrigins = []string{"*"}
	f := newFixture(t, opts, "w0")
	preflight := func(path string) *http.Response {
		resp, _ := f.do("OPTIONS", path, "", "Origin", "https://evil.example", "Access-Control-Request-Method", "POST",
			"Access-Control-Request-Headers", "authorization")
		return resp
	}
	if resp := preflight("/generate"); resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") == "" {
		t.Fatalf("preflight of /generate: %d %v", resp.StatusCode, resp.Header)
	}
	for _, r := range adminRoutes {
		if resp := preflight(r.path); resp.Header.Get("Access-Control-Allow-Origin") != "" || resp.StatusCode/100 == 2 {
			t.Errorf("preflight of %s allowed: %d %v", r.path, resp.StatusCode, resp.Header)
		}
		// A page's "simple" request is sent without a preflight: refuse it outright.
		resp, body := f.do(r.method, r.path, "", "Origin", "https://evil.example")
		if resp.StatusCode != 403 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s from another origin: %d %s", r.path, resp.StatusCode, body)
		}
		if resp, _ := f.do(r.method, r.path, "", "Origin", "null"); resp.StatusCode != 403 {
			t.Errorf("%s from an opaque origin: %d", r.path, resp.StatusCode)
		}
	}
	if len(f.admin.specs) != 0 {
		t.Fatalf("a cross-origin request reached the app: %+v", f.admin.specs)
	}
	if resp, body := f.do("GET", "/list_workers", "", "Origin", f.srv.URL); resp.StatusCode != 200 {
		t.Errorf("same-origin admin call: %d %s", resp.StatusCode, body)
	}
}

func TestKeyringComparesWholeKeys(t *testing.T) {
	k := newKeyring("abc", "", "longer-key")
	if len(k) != 2 {
		t.Fatalf("empty keys must not be accepted: %d digests", len(k))
	}
	for auth, want := range map[string]bool{
		"Bearer abc": true, "bearer abc": true, "BEARER  abc ": true, "Bearer longer-key": true,
		"Bearer ab": false, "Bearer abcd": false, "Bearer ": false, "Bearer": false, "": false, "Token abc": false,
	} {
		r, _ := http.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", auth)
		if got := k.allows(r); got != want {
			t.Errorf("allows(%q) = %v, want %v", auth, got, want)
		}
	}
	var none keyring
	r, _ := http.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer ")
	if none.allows(r) {
		t.Error("an empty keyring allowed a request")
	}
}

func TestClientKeyReachesNeitherPDWorker(t *testing.T) {
	opts := testOptions()
	opts.ClientAPIKeys = []string{"client-a"}
	opts.APIKey = "router-to-worker"
	f := newPDFixture(t, opts, 1, 1)
	if resp, body := f.do("POST", "/generate", `{"text":"a"}`, "Authorization", "Bearer client-a"); resp.StatusCode != 200 {
		t.Fatalf("status %d %s", resp.StatusCode, body)
	}
	for _, w := range append(f.prefill, f.decode...) {
		for _, req := range w.Requests() {
			if req.Path == "/generate" && req.Header.Get("Authorization") != "Bearer router-to-worker" {
				t.Errorf("%s saw Authorization %q", w.Name, req.Header.Get("Authorization"))
			}
		}
		if w.Count("/generate") != 1 {
			t.Errorf("%s served %d requests", w.Name, w.Count("/generate"))
		}
	}
}
