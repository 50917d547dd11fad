package sim

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// pdPair is a prefill server (with its bootstrap listener) and a decode
// server, all on httptest.
type pdPair struct {
	prefill, decode     *Server
	prefillURL, decURL  string
	bootHost            string
	bootPort, plainPort int
}

func newPDPair(t *testing.T, decodeCfg Config) *pdPair {
	t.Helper()
	return newPDPairWith(t, func(int) Config { return decodeCfg })
}

// newPDPairWith builds the decode server's config knowing the prefill
// server's bootstrap port.
func newPDPairWith(t *testing.T, decodeConfig func(bootPort int) Config) *pdPair {
	t.Helper()
	p, pts := testServer(t, Config{Role: RolePrefill, BlockSize: 4})
	boot := httptest.NewServer(p.BootstrapHandler())
	t.Cleanup(boot.Close)
	_, bootPort := hostPort(t, boot.URL)
	decodeCfg := decodeConfig(bootPort)
	decodeCfg.Role = RoleDecode
	d, dts := testServer(t, decodeCfg)
	host, port := hostPort(t, boot.URL)
	_, plain := hostPort(t, pts.URL)
	return &pdPair{prefill: p, decode: d, prefillURL: pts.URL, decURL: dts.URL, bootHost: host, bootPort: port, plainPort: plain}
}

func hostPort(t *testing.T, url string) (string, int) {
	t.Helper()
	host, port, err := net.SplitHostPort(strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	var p int
	fmt.Sscan(port, &p)
	return host, p
}

// body is a /generate body with the bootstrap fields of the pair.
func (pd *pdPair) body(text, room string) string {
	return fmt.Sprintf(`{"text": %s, "sampling_params": {"max_new_tokens": 4}, "return_logprob": true,
		"bootstrap_host": %q, "bootstrap_port": %d, "bootstrap_room": %s}`, text, pd.bootHost, pd.bootPort, room)
}

type result struct {
	code int
	body []byte
}

func TestPDDecodeWaitsForTheMatchingRoom(t *testing.T) {
	pd := newPDPair(t, Config{})
	prompt := fmt.Sprintf("%q", words(0, 20))
	const room = "9223372036854775807" // the largest room a router may pick
	done := make(chan result)
	go func() {
		code, body := post(t, pd.decURL+"/generate", pd.body(prompt, room))
		done <- result{code, body}
	}()
	waitFor(t, func() bool { return pd.decode.Stats().HTTPRequests == 1 })
	select {
	case r := <-done:
		t.Fatalf("decode answered before the prefill: %d %s", r.code, r.body)
	default:
	}
	code, body := post(t, pd.prefillURL+"/generate", pd.body(prompt, room))
	if code != http.StatusOK {
		t.Fatalf("prefill: %d %s", code, body)
	}
	var pre genResp
	mustUnmarshal(t, body, &pre)
	if pre.MetaInfo.CompletionTokens != 1 || len(pre.MetaInfo.InputTokenLogprobs) != 20 {
		t.Fatalf("prefill answer %s", body)
	}
	r := <-done
	if r.code != http.StatusOK {
		t.Fatalf("decode: %d %s", r.code, r.body)
	}
	var dec genResp
	mustUnmarshal(t, r.body, &dec)
	if dec.MetaInfo.CompletionTokens != 4 || dec.MetaInfo.PromptTokens != 20 || len(dec.MetaInfo.InputTokenLogprobs) != 0 {
		t.Fatalf("decode answer %s", r.body)
	}
	if !strings.HasPrefix(dec.Text, pre.Text) {
		t.Fatalf("decode text %q does not continue the prefill's first token %q", dec.Text, pre.Text)
	}
	if pd.prefill.Stats().Rooms != 1 || pd.decode.Stats().Rooms != 1 {
		t.Fatalf("rooms: prefill %+v decode %+v", pd.prefill.Stats(), pd.decode.Stats())
	}
}

func TestPDDecodeReportsThePrefillCacheHit(t *testing.T) {
	pd := newPDPair(t, Config{})
	prompt := fmt.Sprintf("%q", words(0, 20))
	for _, room := range []string{"1", "2"} {
		if code, body := post(t, pd.prefillURL+"/generate", pd.body(prompt, room)); code != http.StatusOK {
			t.Fatalf("prefill: %d %s", code, body)
		}
	}
	code, body := post(t, pd.decURL+"/generate", pd.body(prompt, "2"))
	var dec genResp
	mustUnmarshal(t, body, &dec)
	if code != http.StatusOK || dec.MetaInfo.CachedTokens != 16 {
		t.Fatalf("decode %d %s: want cached_tokens 16 from the second prefill", code, body)
	}
}

func TestPDBatchNeedsOneRoomPerSequence(t *testing.T) {
	pd := newPDPair(t, Config{})
	texts := `["a b c", "d e f"]`
	if code, body := post(t, pd.prefillURL+"/generate", pd.body(texts, "[10, 11]")); code != http.StatusOK {
		t.Fatalf("prefill batch: %d %s", code, body)
	}
	code, body := post(t, pd.decURL+"/generate", pd.body(texts, "[10, 11]"))
	var list []genResp
	mustUnmarshal(t, body, &list)
	if code != http.StatusOK || len(list) != 2 {
		t.Fatalf("decode batch: %d %s", code, body)
	}
	code, body = post(t, pd.decURL+"/generate", pd.body(texts, "10"))
	if code != http.StatusBadRequest || !strings.Contains(string(body), "bootstrap_room must be a list of 2") {
		t.Fatalf("single room for a batch: %d %s", code, body)
	}
}

func TestPDChatWithN(t *testing.T) {
	pd := newPDPair(t, Config{})
	body := fmt.Sprintf(`{"messages": [{"role": "user", "content": "hi"}], "n": 2, "max_tokens": 3,
		"bootstrap_host": %q, "bootstrap_port": %d, "bootstrap_room": [5, 6]}`, pd.bootHost, pd.bootPort)
	if code, b := post(t, pd.prefillURL+"/v1/chat/completions", body); code != http.StatusOK {
		t.Fatalf("prefill: %d %s", code, b)
	}
	if code, b := post(t, pd.decURL+"/v1/chat/completions", body); code != http.StatusOK {
		t.Fatalf("decode: %d %s", code, b)
	}
}

func TestPDErrors(t *testing.T) {
	pd := newPDPair(t, Config{BootstrapTimeoutMs: 150})
	prompt := `"a b c d e"`
	// Room 77 is prefilled for another prompt.
	post(t, pd.prefillURL+"/generate", pd.body(`"something else entirely"`, "77"))
	cases := []struct {
		name   string
		url    string
		body   string
		status int
		want   string
	}{
		{"decode without room", pd.decURL, fmt.Sprintf(`{"text": %s, "bootstrap_host": %q, "bootstrap_port": %d}`, prompt, pd.bootHost, pd.bootPort),
			400, "bootstrap_room is required on a decode server"},
		{"decode without host", pd.decURL, fmt.Sprintf(`{"text": %s, "bootstrap_port": %d, "bootstrap_room": 1}`, prompt, pd.bootPort),
			400, "bootstrap_host is required"},
		{"room not a number", pd.decURL, pd.body(prompt, `"x"`), 400, "bootstrap_room must be a non-negative integer"},
		{"prefill without room", pd.prefillURL, `{"text": "a"}`, 400, "bootstrap_room is required on a prefill server"},
		{"unknown room times out", pd.decURL, pd.body(prompt, "12345"), 500, "bootstrap room 12345 was not prefilled"},
		{"room of another prompt", pd.decURL, pd.body(prompt, "77"), 500, "prefilled for a different prompt"},
		{"port is not a bootstrap server", pd.decURL,
			fmt.Sprintf(`{"text": %s, "bootstrap_host": %q, "bootstrap_port": %d, "bootstrap_room": 1}`, prompt, pd.bootHost, pd.plainPort),
			500, "is not a bootstrap server"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := post(t, tc.url+"/generate", tc.body)
			if code != tc.status || !strings.Contains(string(body), tc.want) {
				t.Fatalf("got %d %s, want %d mentioning %q", code, body, tc.status, tc.want)
			}
		})
	}
}

func TestRegularServerIgnoresBootstrapFields(t *testing.T) {
	_, ts := testServer(t, Config{})
	code, body := post(t, ts.URL+"/generate", `{"text": "a", "bootstrap_host": "h", "bootstrap_port": 1, "bootstrap_room": 3}`)
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
}

func TestRoomRegistryForgetsAbandonedWaits(t *testing.T) {
	r := newRoomRegistry()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, ok := r.wait(ctx, 1); ok {
		t.Fatal("room 1 ready without a prefill")
	}
	if len(r.rooms) != 0 {
		t.Fatalf("pending entry left behind: %v", r.rooms)
	}
	for i := range maxRooms + 10 {
		r.register(uint64(i), roomInfo{})
	}
	if len(r.rooms) != maxRooms {
		t.Fatalf("%d rooms kept, want the bound %d", len(r.rooms), maxRooms)
	}
}

// A prefill server listed with "none" reaches decode as "bootstrap_port":
// null; like SGLang, the decode server then uses its own default bootstrap
// port (--disaggregation-bootstrap-port), here the prefill's.
func TestPDNullBootstrapPortMeansTheDecodeServersDefault(t *testing.T) {
	pd := newPDPairWith(t, func(bootPort int) Config { return Config{DisaggregationBootstrapPort: bootPort} })
	prompt := fmt.Sprintf("%q", words(0, 8))
	for i, port := range []string{"null", "[null]"} {
		room := fmt.Sprint(100 + i)
		body := fmt.Sprintf(`{"text": %s, "sampling_params": {"max_new_tokens": 2}, "bootstrap_host": %q, "bootstrap_port": %s, "bootstrap_room": %s}`,
			prompt, pd.bootHost, port, room)
		done := make(chan result)
		go func() {
			code, b := post(t, pd.decURL+"/generate", body)
			done <- result{code, b}
		}()
		if code, b := post(t, pd.prefillURL+"/generate", body); code != 200 {
			t.Fatalf("prefill: %d %s", code, b)
		}
		if r := <-done; r.code != 200 {
			t.Fatalf("decode with bootstrap_port %s: %d %s", port, r.code, r.body)
		}
	}
}
