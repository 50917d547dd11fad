package worker

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeURL(t *testing.T) {
	cases := []struct{ in, want string }{
		{"http://h:1", "http://h:1"},
		{"HTTP://H:1", "http://h:1"},
		{"http://Worker-1.Example.COM.:8000/", "http://worker-1.example.com:8000"},
		{"http://localhost", "http://localhost:80"},
		{"https://h", "https://h:443"},
		{"http://h:80", "http://h:80"},
		{"http://h:", "http://h:80"},
		{"http://h:0080", "http://h:80"},
		{"http://h:1/v1/", "http://h:1/v1"},
		{"http://h:1/a%20b//", "http://h:1/a%20b"},
		{"http://127.0.0.1:8000", "http://127.0.0.1:8000"},
		{"http://[::1]:8000", "http://[::1]:8000"},
		{"http://[0:0::1]", "http://[::1]:80"},
		{"http://[FD00::ABCD]:9/", "http://[fd00::abcd]:9"},
		{"http://[fe80::1%25eth0]:8000", "http://[fe80::1%25eth0]:8000"},
	}
	for _, tc := range cases {
		got, err := NormalizeURL(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("NormalizeURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestNormalizeURLRejects(t *testing.T) {
	cases := []struct{ in, why string }{
		{"", "empty"},
		{"ftp://h:1", "scheme must be http or https"},
		{"grpc://h:1", "grpc:// workers (the original router's gRPC mode) are not supported"},
		{"grpcs://h:1", "grpc:// workers"},
		{"h:1", "scheme must be http or https"},
		{"http://", "missing host"},
		{"http://:80", "missing host"},
		{"http:h", "missing host"},
		{"http://user:pass@h:1", "credentials"},
		{"http://user@h:1", "credentials"},
		{"http://h:1?x=1", "query"},
		{"http://h:1?", "query"},
		{"http://h:1#frag", "fragment"},
		{"http://h:1#", "fragment"},
		{"http://h:0", "not a TCP port"},
		{"http://h:65536", "not a TCP port"},
		{"http://h:99999999999999999999", "not a TCP port"},
		{"http://a b:1", "invalid character"},
		{"http://h:1/\x00", "invalid control character"},
		{"http://" + strings.Repeat("a", 3000), "longer than"},
	}
	for _, tc := range cases {
		got, err := NormalizeURL(tc.in)
		if !errors.Is(err, ErrInvalidSpec) || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("NormalizeURL(%q) = %q, %v; want an invalid-spec error about %q", tc.in, got, err, tc.why)
		}
	}
}

func TestRejectedURLsAreQuotedWithoutCredentials(t *testing.T) {
	for _, in := range []string{"http://user:s3cret@h:1", "http://user:s3cret@h:1/p?q", "ftp://user:s3cret@h", "http://user:s3cret@:1"} {
		_, err := NormalizeURL(in)
		if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "REDACTED@") {
			t.Errorf("NormalizeURL(%q): %v", in, err)
		}
	}
}

func TestParseSpec(t *testing.T) {
	port := 8998
	s, err := ParseSpec("HTTP://P:1/", Prefill, &port)
	if err != nil || s.URL != "http://p:1" || s.Role != Prefill || *s.BootstrapPort != 8998 {
		t.Fatalf("got %+v %v", s, err)
	}
	port = 1 // the spec owns its copy
	if *s.BootstrapPort != 8998 {
		t.Error("the spec shares the caller's bootstrap port")
	}
	for _, tc := range []struct {
		role Role
		port int
		want string
	}{
		{Prefill, 0, "Invalid bootstrap port: 0. Must be a number or 'none'"},
		{Prefill, 70000, "Invalid bootstrap port: 70000"},
		{Decode, 8998, "prefill workers only"},
		{Regular, 8998, "prefill workers only"},
	} {
		p := tc.port
		if _, err := ParseSpec("http://p:1", tc.role, &p); !errors.Is(err, ErrInvalidSpec) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s port %d: %v, want %q", tc.role, tc.port, err, tc.want)
		}
	}
}

func TestParseRole(t *testing.T) {
	for s, want := range map[string]Role{"": Regular, "regular": Regular, "prefill": Prefill, "decode": Decode} {
		if r, err := ParseRole(s); err != nil || r != want {
			t.Errorf("ParseRole(%q) = %v, %v", s, r, err)
		}
	}
	if _, err := ParseRole("middle"); !errors.Is(err, ErrInvalidSpec) {
		t.Errorf("ParseRole(middle): %v", err)
	}
}

func TestHostPort(t *testing.T) {
	for in, want := range map[string]struct {
		host string
		port int
	}{
		"http://h:1/x":                {"h", 1},
		"http://[::1]:8000":           {"::1", 8000},
		"https://[fe80::1%25eth0]:44": {"fe80::1%eth0", 44},
	} {
		h, p, err := HostPort(in)
		if err != nil || h != want.host || p != want.port {
			t.Errorf("HostPort(%q) = %q %d %v", in, h, p, err)
		}
	}
}
