package sim

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// cachedOf posts body to /generate and returns the cached prompt tokens.
func cachedOf(t *testing.T, url, body string) int {
	t.Helper()
	code, b := post(t, url+"/generate", body)
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, b)
	}
	var r genResp
	mustUnmarshal(t, b, &r)
	return r.MetaInfo.CachedTokens
}

func TestDPServerInfoReportsDPSize(t *testing.T) {
	_, ts := testServer(t, Config{DPSize: 4, CacheCapacityTokens: 1024, BlockSize: 4})
	_, body := get(t, ts.URL+"/get_server_info")
	var m map[string]any
	mustUnmarshal(t, body, &m)
	if m["dp_size"] != 4.0 || m["max_total_num_tokens"] != 1024.0 {
		t.Fatalf("dp_size %v, max_total_num_tokens %v; want 4 and 1024 (per rank)", m["dp_size"], m["max_total_num_tokens"])
	}
}

func TestDPRankKeepsItsOwnCache(t *testing.T) {
	_, ts := testServer(t, Config{DPSize: 2, BlockSize: 4})
	prompt := words(0, 30)
	at := func(rank int) string {
		return fmt.Sprintf(`{"text": %q, "sampling_params": {"max_new_tokens": 1}, "data_parallel_rank": %d}`, prompt, rank)
	}
	if got := cachedOf(t, ts.URL, at(0)); got != 0 {
		t.Fatalf("first request on rank 0: cached %d, want 0", got)
	}
	if got := cachedOf(t, ts.URL, at(1)); got != 0 {
		t.Fatalf("rank 1 shares rank 0's cache: cached %d, want 0", got)
	}
	if got := cachedOf(t, ts.URL, at(0)); got != 28 {
		t.Fatalf("repeat on rank 0: cached %d, want 28", got)
	}
}

func TestDPWithoutRankGoesRoundRobin(t *testing.T) {
	_, ts := testServer(t, Config{DPSize: 3, BlockSize: 4})
	body := fmt.Sprintf(`{"text": %q, "sampling_params": {"max_new_tokens": 1}}`, words(0, 30))
	var got []int
	for range 4 {
		got = append(got, cachedOf(t, ts.URL, body))
	}
	// Ranks 0, 1, 2 each see the prompt for the first time; rank 0 again hits.
	if want := []int{0, 0, 0, 28}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("cached tokens %v, want %v", got, want)
	}
}

func TestDPRankRefusesBadRanks(t *testing.T) {
	_, ts := testServer(t, Config{DPSize: 2})
	for _, rank := range []string{"2", "-1", `"0"`, "1.5", strings.Repeat("9", 100)} {
		body := `{"text": "hi", "data_parallel_rank": ` + rank + `}`
		code, b := post(t, ts.URL+"/generate", body)
		if code != http.StatusBadRequest || !strings.Contains(string(b), "data_parallel_rank") {
			t.Errorf("rank %.20s: status %d %s, want 400 naming data_parallel_rank", rank, code, b)
		}
	}
}

func TestDPSizeValidated(t *testing.T) {
	for _, n := range []int{-1, 65} {
		if _, err := ParseConfig([]byte(fmt.Sprintf(`{"dp_size": %d}`, n))); err == nil || !strings.Contains(err.Error(), "dp_size") {
			t.Errorf("dp_size %d: err %v", n, err)
		}
	}
}
