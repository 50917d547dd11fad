package sim

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// LiveFaults are the faults an operator or a test switches at run time
// with POST /sim/faults, so a running process can be made sick and well
// again. They apply to every generation request of this server, besides
// the configured Fault* settings.
type LiveFaults struct {
	// Hang: accept generation requests (and /health_generate) and never
	// answer them, while /health keeps answering 200 (a hung GPU).
	Hang bool `json:"hang"`
	// FailRate is the chance that a generation request answers 500.
	FailRate float64 `json:"fail_rate"`
}

// maxFaultsBody bounds the body of POST /sim/faults.
const maxFaultsBody = 4 << 10

// faults serves /sim/faults: GET shows the live faults; POST replaces
// them with the body (so {} clears them all) and answers the new set.
func (s *Server) faults(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		var f LiveFaults
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFaultsBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request_error", fmt.Sprintf("faults: %v (send {\"hang\": bool, \"fail_rate\": 0..1})", err))
			return
		}
		if !(f.FailRate >= 0 && f.FailRate <= 1) {
			writeError(w, http.StatusBadRequest, "invalid_request_error", "faults: fail_rate must be in [0, 1]")
			return
		}
		s.live.Store(&f)
	}
	writeJSON(w, http.StatusOK, s.liveFaults())
}

func (s *Server) liveFaults() LiveFaults {
	if f := s.live.Load(); f != nil {
		return *f
	}
	return LiveFaults{}
}

// liveFault applies the live faults to a generation request: a 500 at
// FailRate, or a hang until the client leaves or the server closes. It
// reports whether it answered the request.
func (s *Server) liveFault(w http.ResponseWriter, r *http.Request) bool {
	f := s.liveFaults()
	if f.FailRate > 0 && s.draw() < f.FailRate {
		s.eng.stats.injectedFailures.Add(1)
		writeError(w, http.StatusInternalServerError, "internal_error", "injected failure (live fault)")
		return true
	}
	if f.Hang {
		s.hang(r)
	}
	return false
}

// hang never answers r: it waits until the client leaves or the server
// closes, then drops the connection.
func (s *Server) hang(r *http.Request) {
	ctx, cancel := s.withBase(r.Context())
	defer cancel()
	<-ctx.Done()
	panic(http.ErrAbortHandler)
}
