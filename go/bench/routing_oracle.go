package bench

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/sgl-project/sglang-router-go/go/sim"
)

// oracleHitRate is the hit rate of the ideal router: one worker whose
// cache is the whole cluster's, so every prefix is found wherever it was
// computed. It replays the workload in order, one request at a time, on an
// in-process engine that never sleeps; only the cache matters here.
func (s testbed) oracleHitRate() (float64, error) {
	// Requests run one at a time: the KV of one beside the cluster's cache.
	srv, err := sim.NewServer(s.simConfig(1, s.cacheTokens*s.workers+s.maxRequestTokens(), 0), 0)
	if err != nil {
		return 0, err
	}
	defer srv.Close()
	h := srv.Handler()
	convs := newConversations()
	for i, r := range s.wl.Requests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, r.Path, bytes.NewReader(convs.body(r))))
		if rec.Code != http.StatusOK {
			return 0, fmt.Errorf("oracle: request %d: status %d: %s", i, rec.Code, rec.Body)
		}
		if r.Turn != nil {
			convs.answered(r.Turn, streamAnswer(rec.Body.Bytes()))
		}
	}
	st := srv.Stats()
	return ratio(float64(st.CachedTokens), float64(st.PromptTokens)), nil
}
