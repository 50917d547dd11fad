package hdr

import (
	"net/textproto"
	"testing"
)

func TestAppendCanonicalMatchesTextproto(t *testing.T) {
	for _, name := range []string{"content-type", "X-REQUEST-ID", "x-sglang-router-hops", "Www-authenticate", "a", "-x-", "Host"} {
		want := textproto.CanonicalMIMEHeaderKey(name)
		if got := string(AppendCanonical(nil, name)); got != want {
			t.Errorf("AppendCanonical(%q) = %q, want %q", name, got, want)
		}
		if got := string(AppendCanonical([]byte("x"), []byte(name))); got != "x"+want {
			t.Errorf("AppendCanonical(bytes %q) = %q, want %q", name, got, "x"+want)
		}
	}
}

func TestInternedKeepsOneString(t *testing.T) {
	m := Interned("Host", "Accept")
	if len(m) != 2 || m["Host"] != "Host" || m["Accept"] != "Accept" {
		t.Fatalf("Interned = %v", m)
	}
	if _, ok := m["host"]; ok {
		t.Error("lookup is exact: canonicalize first")
	}
}
