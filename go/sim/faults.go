package sim

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// guard runs before every route: a crashed server drops the connection,
// then the API key, the payload limit and the added latency apply.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.inflight.Add(1)
		defer s.inflight.Add(-1)
		if s.crashed.Load() {
			panic(http.ErrAbortHandler) // like a dead process: no answer at all
		}
		if !s.authorized(r) {
			writeError(w, http.StatusUnauthorized, "authentication_error", "invalid or missing API key (send Authorization: Bearer <key>)")
			return
		}
		if limit := s.cfg.MaxPayloadBytes; limit > 0 {
			if r.ContentLength > limit {
				writeError(w, http.StatusRequestEntityTooLarge, "payload_too_large", fmt.Sprintf("body of %d bytes exceeds the limit of %d", r.ContentLength, limit))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		if s.faulty && s.cfg.FaultLatencyMs > 0 {
			d := time.Duration(s.cfg.FaultLatencyMs * float64(time.Millisecond))
			if s.eng.clock.Sleep(r.Context(), d) != nil {
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// authorized applies api_key to every route but the health checks and
// metrics, as SGLang does.
func (s *Server) authorized(r *http.Request) bool {
	if s.cfg.APIKey == "" {
		return true
	}
	switch r.URL.Path {
	case "/health", "/health_generate", "/metrics":
		return true
	}
	return r.Header.Get("Authorization") == "Bearer "+s.cfg.APIKey
}

// readBody reads the whole body; a body over the payload limit is a 413.
func readBody(r *http.Request) ([]byte, error) {
	data, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, &httpError{http.StatusRequestEntityTooLarge, "payload_too_large", fmt.Sprintf("body exceeds the limit of %d bytes", tooBig.Limit)}
	}
	if err != nil {
		return nil, badRequest("cannot read the body: %v", err)
	}
	return data, nil
}

// generationFault applies the per-request faults to generation request
// number n (from 1): an injected 500, a hang, or a crash. It reports
// whether it answered the request.
func (s *Server) generationFault(w http.ResponseWriter, r *http.Request, n int64) bool {
	if s.liveFault(w, r) {
		return true
	}
	if !s.faulty {
		return false
	}
	cfg := s.cfg
	if cfg.FaultCrashAfterN > 0 && n > int64(cfg.FaultCrashAfterN) {
		s.crash()
		panic(http.ErrAbortHandler)
	}
	if n <= int64(cfg.FaultFailFirstN) || (cfg.FaultFailRate > 0 && s.draw() < cfg.FaultFailRate) {
		s.eng.stats.injectedFailures.Add(1)
		writeError(w, http.StatusInternalServerError, "internal_error", fmt.Sprintf("injected failure of request %d (fault injection)", n))
		return true
	}
	if cfg.FaultHang {
		s.hang(r)
	}
	return false
}

// crashAfter makes the server die once generation request n has been
// answered, if n is the configured last one.
func (s *Server) crashAfter(w http.ResponseWriter, n int64) {
	if s.faulty && s.cfg.FaultCrashAfterN > 0 && n == int64(s.cfg.FaultCrashAfterN) {
		if f, ok := w.(http.Flusher); ok {
			f.Flush() // the answer leaves before the connection dies
		}
		s.crash()
	}
}

// crash turns the server into a dead process: requests in flight are
// aborted, new ones dropped, and a Cluster closes its listeners.
func (s *Server) crash() {
	if !s.crashed.CompareAndSwap(false, true) {
		return
	}
	s.cancel()
	s.crashMu.Lock()
	hook := s.onCrash
	s.crashMu.Unlock()
	if hook != nil {
		hook()
	}
}

// setOnCrash sets what a crash does beyond the handler (close listeners).
func (s *Server) setOnCrash(f func()) {
	s.crashMu.Lock()
	defer s.crashMu.Unlock()
	s.onCrash = f
}

func (s *Server) draw() float64 {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.Float64()
}

// healthFailing reports whether fault_health_fail_after_sec has passed.
func (s *Server) healthFailing() bool {
	after := s.cfg.FaultHealthFailAfter
	return s.faulty && after > 0 && s.eng.clock.Now().Sub(s.start).Seconds() >= after
}
