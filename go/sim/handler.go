package sim

import (
	"context"
	"net/http"
	"sync"
)

// generation is the request path shared by /generate and the OpenAI
// routes: read, faults, parse, PD handshake, admit, run, answer.
func (s *Server) generation(parse func([]byte) (*request, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := s.withBase(r.Context())
		defer cancel()
		r = r.WithContext(ctx)
		body, err := readBody(r)
		if err != nil {
			writeErr(w, err)
			return
		}
		n := s.genCount.Add(1)
		s.eng.stats.httpRequests.Add(1)
		if s.generationFault(w, r, n) {
			return
		}
		defer s.crashAfter(w, n)
		req, err := parse(body)
		if err != nil {
			writeErr(w, err)
			return
		}
		jobs, err := s.prepare(ctx, req)
		if err != nil {
			writeErr(w, err)
			return
		}
		if err := s.eng.admit(jobs); err != nil {
			writeError(w, http.StatusServiceUnavailable, "overloaded", err.Error())
			return
		}
		s.respond(ctx, w, req, jobs)
	})
}

// prepare makes the request's jobs, with their outputs decided up front,
// and on a decode server waits for their rooms to be prefilled.
func (s *Server) prepare(ctx context.Context, req *request) ([]*job, error) {
	refs, err := s.roomsFor(req)
	if err != nil {
		return nil, err
	}
	ranks, err := s.ranksFor(req.pd.DataParallelRank, refs, req.sequences())
	if err != nil {
		return nil, err
	}
	jobs := make([]*job, 0, req.sequences())
	arrival := s.eng.clock.Now()
	for i, prompt := range req.prompts {
		maxNew := req.maxNew[i]
		if s.cfg.Role == RolePrefill {
			maxNew = min(maxNew, 1) // a prefill server produces only the first token
		}
		for k := range req.n {
			j := &job{idx: len(jobs), prompt: prompt, arrival: arrival, out: s.eng.tok.generate(s.cfg.Seed, prompt, k, maxNew)}
			j.rank = ranks[j.idx]
			if refs != nil {
				j.room = refs[j.idx]
			}
			jobs = append(jobs, j)
		}
	}
	if s.cfg.Role == RoleDecode {
		if err := s.awaitRooms(ctx, jobs); err != nil {
			return nil, err
		}
		s.eng.stats.rooms.Add(int64(len(jobs)))
	}
	return jobs, nil
}

// respond runs the jobs and writes the answer in the route's format.
func (s *Server) respond(ctx context.Context, w http.ResponseWriter, req *request, jobs []*job) {
	f := s.format(req, jobs)
	var cb progress = func(*job, bool) error { return nil }
	var sse *sseWriter
	_, named := f.(namedEvents)
	if req.stream {
		sse = newSSEWriter(w)
		sse.framed = named
		cb = func(j *job, done bool) error { return sse.send(f.events(j, done)...) }
	}
	if err := s.runJobs(ctx, jobs, cb); err != nil {
		panic(http.ErrAbortHandler) // client gone or server closed: drop the connection
	}
	if !req.stream {
		writeJSON(w, http.StatusOK, f.body())
		return
	}
	_ = sse.send(f.tail()...)
	if !named {
		_ = sse.sendRaw([]byte("[DONE]"))
	}
}

// runJobs runs jobs concurrently (a single one inline); the first failure
// cancels the others.
func (s *Server) runJobs(ctx context.Context, jobs []*job, cb progress) error {
	if len(jobs) == 1 {
		return s.eng.run(ctx, jobs[0], cb)
	}
	return eachJob(ctx, jobs, func(ctx context.Context, j *job) error { return s.eng.run(ctx, j, cb) })
}

// eachJob runs f on every job concurrently and returns the first error,
// cancelling the others' context when one fails.
func eachJob(ctx context.Context, jobs []*job, f func(context.Context, *job) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx, j); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		}()
	}
	wg.Wait()
	return first
}
