package sim

import (
	"io"
	"net/http"
)

// simVersion is reported as the server's version.
const simVersion = "0.0.0-sim"

// health answers SGLang's /health: 200 with an empty body, or 503 once
// fault_health_fail_after_sec has passed.
func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	if s.healthFailing() {
		writeError(w, http.StatusServiceUnavailable, "unhealthy", "health check failing (fault injection)")
		return
	}
	w.WriteHeader(http.StatusOK)
}

// healthGenerate is /health_generate: like /health, but it is a
// generation, so it hangs when generation hangs.
func (s *Server) healthGenerate(w http.ResponseWriter, r *http.Request) {
	if (s.faulty && s.cfg.FaultHang) || s.liveFaults().Hang {
		s.hang(r)
	}
	s.health(w, r)
}

func (s *Server) disaggregationMode() string {
	if s.cfg.Role == RoleRegular {
		return "null"
	}
	return s.cfg.Role
}

// serverInfo mirrors a subset of SGLang's /get_server_info (server args
// and scheduler info) plus the simulator's own configuration under "sim".
func (s *Server) serverInfo(w http.ResponseWriter, _ *http.Request) {
	l := s.eng.sched.load()
	cfg := s.cfg
	if cfg.APIKey != "" {
		cfg.APIKey = "<redacted>"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"model_path":                    s.cfg.Model,
		"tokenizer_path":                s.cfg.Model,
		"served_model_name":             s.cfg.Model,
		"disaggregation_mode":           s.disaggregationMode(),
		"disaggregation_bootstrap_port": s.bootstrapPort,
		"max_running_requests":          s.cfg.MaxRunningRequests,
		"max_queued_requests":           s.cfg.MaxQueue,
		"page_size":                     s.cfg.BlockSize,
		"max_total_num_tokens":          s.eng.cache.perRank(),
		"context_length":                contextLength,
		"tp_size":                       1,
		"dp_size":                       s.cfg.DPSize,
		"version":                       simVersion,
		"internal_states": []map[string]any{{
			"load":                l.RunningTokens + l.WaitingTokens,
			"last_gen_throughput": 0.0,
		}},
		"sim":       cfg,
		"sim_index": s.index,
	})
}

func (s *Server) modelInfo(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"model_path":                s.cfg.Model,
		"tokenizer_path":            s.cfg.Model,
		"is_generation":             true,
		"preferred_sampling_params": nil,
		"weight_version":            "default",
		"has_image_understanding":   false,
		"has_audio_understanding":   false,
	})
}

// models is OpenAI's model list with the one served model.
func (s *Server) models(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"object": "list",
		"data": []map[string]any{{
			"id":            s.cfg.Model,
			"object":        "model",
			"created":       s.start.Unix(),
			"owned_by":      "sglang",
			"root":          s.cfg.Model,
			"max_model_len": contextLength,
		}},
	})
}

// getLoad answers /get_load. "object" (default) is mid-2025 SGLang's
// {"load": tokens} extended with the per-rank fields of later versions;
// "list" is the later per-data-parallel-rank list. num_reqs counts running
// and waiting requests, num_tokens their tokens (prompt + generated).
func (s *Server) getLoad(w http.ResponseWriter, _ *http.Request) {
	l := s.eng.sched.load()
	tokens := l.RunningTokens + l.WaitingTokens
	entry := map[string]any{
		"dp_rank":            0,
		"num_reqs":           l.Running + l.Waiting,
		"num_running_reqs":   l.Running,
		"num_waiting_reqs":   l.Waiting,
		"num_tokens":         tokens,
		"num_pending_tokens": l.WaitingTokens,
	}
	if s.cfg.LoadFormat == LoadFormatList {
		writeJSON(w, http.StatusOK, []map[string]any{entry})
		return
	}
	entry["load"] = tokens
	writeJSON(w, http.StatusOK, entry)
}

// flushCache empties the prefix cache (GET or POST, as SGLang accepts).
func (s *Server) flushCache(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "invalid_request_error", "use POST /flush_cache")
		return
	}
	s.eng.cache.flush()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "Cache flushed.\n")
}
