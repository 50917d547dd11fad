package sim

import (
	"context"
	"time"
)

// job is one sequence being served: one entry of a batch, one choice of
// n. The handler fills the request fields, the engine the rest. A job is
// owned by the handler until it runs, then by its runner goroutine (the
// progress callback runs there too), then by the handler again once every
// runner has returned.
type job struct {
	idx    int   // position in the response (batch entry / choice)
	prompt []int // token ids
	out    output
	room   *roomRef // PD: the bootstrap room of this sequence
	rank   int      // data-parallel rank that serves it (its prefix cache)

	ticket    *ticket
	cached    int // prompt tokens found in the prefix cache
	arrival   time.Time
	queueWait time.Duration
	ttft      time.Duration
	e2e       time.Duration
	emitted   int // output tokens produced so far
}

func (j *job) uncached() int { return len(j.prompt) - j.cached }

// progress is called after each output token (done is true on the last),
// or once with done when a job produces no token. An error stops the job.
type progress func(j *job, done bool) error

// engine is the latency model of one server, shared by its requests.
//
// A request first takes a place in the scheduler (batch or queue). Its
// prefix is looked up in the cache and inserted at once, when it arrives,
// so the entries of a batch see each other in order. When it runs, its
// uncached tokens are booked on the server's prefill lane (prefillLane:
// one FIFO queue per server, not one per request):
//
//	work    = scale * uncached_prompt_tokens / prefill_tokens_per_sec
//	prefill ends at max(now, end of the lane's earlier work) + work + scale * overhead
//	step    = scale * (1 / decode_tokens_per_sec) * (1 + slope * (running - 1))
//
// the first token comes when the prefill ends (time to first token = queue
// wait + lane wait + prefill), each further token one decode step later;
// the step is computed from the batch size at that moment. The fixed
// overhead does not hold the lane: prefills batched in one forward pass
// share it. Sleeps aim at absolute deadlines so
// rounding never accumulates. A decode server skips the prefill (its KV
// comes from the prefill server), but its time to first token includes
// the wait for the prefill's room; a prefill server produces one token.
// When the request ends its prompt and output are inserted in the cache.
type engine struct {
	cfg   Config
	role  string
	clock Clock
	tok   tokenizer
	cache *rankCaches // one prefix cache per data-parallel rank
	sched *scheduler
	lane  prefillLane
	stats *counters
	obs   *observer
	rooms *roomRegistry // prefill role only
}

// admit places jobs in the scheduler in order, all or none. A job's
// arrival is now unless the handler set it earlier (a decode server sets
// it before waiting for the prefill, which is part of its latency).
func (e *engine) admit(jobs []*job) error {
	for i, j := range jobs {
		t, err := e.sched.enqueue(len(j.prompt))
		if err != nil {
			for _, prev := range jobs[:i] {
				e.sched.withdraw(prev.ticket)
			}
			e.stats.rejected.Add(int64(len(jobs)))
			return err
		}
		j.ticket = t
	}
	now := e.clock.Now()
	for _, j := range jobs {
		if j.arrival.IsZero() {
			j.arrival = now
		}
	}
	return nil
}

// lookUp finds a scheduled job's cached prefix and holds room for the rest
// of its KV until it ends (the returned func): the prefix is looked up
// when the job starts, not when it arrives, so a queued job can lose its
// hit to eviction, as in SGLang. Decode jobs keep the cached count of
// their room and hold nothing here (their KV came from the prefill).
func (e *engine) lookUp(j *job) (release func()) {
	if e.role == RoleDecode {
		return func() {}
	}
	c := e.cache.ranks[j.rank]
	j.cached = c.admit(j.prompt)
	held := c.hold(j.uncached() + len(j.out.ids))
	return func() { c.unhold(held) }
}

// run serves one admitted job; it returns ctx.Err() or the callback's
// error if the job was abandoned, after freeing its place.
func (e *engine) run(ctx context.Context, j *job, cb progress) error {
	err := e.serve(ctx, j, cb)
	if err != nil {
		e.stats.aborted.Add(1)
		return err
	}
	e.finish(j)
	return nil
}

// minSleep is the shortest sleep between two tokens: decode steps shorter
// than this (a fast TimeScale) are taken in groups, the group's tokens
// leaving up to minSleep early, so that thousands of running sequences do
// not each wake a timer per token. The last token is always on time.
const minSleep = time.Millisecond

func (e *engine) serve(ctx context.Context, j *job, cb progress) error {
	if err := e.sched.wait(ctx, j.ticket); err != nil {
		return err
	}
	defer e.sched.release(j.ticket)
	defer e.lookUp(j)()
	deadline, err := e.prefill(ctx, j)
	if err != nil {
		return err
	}
	j.ttft = e.clock.Now().Sub(j.arrival)
	e.obs.ttft.Observe(j.ttft.Seconds())
	if len(j.out.ids) == 0 {
		return cb(j, true)
	}
	return e.decode(ctx, j, deadline, cb)
}

// prefill books the job's prefill on the lane and sleeps until it ends
// (none on a decode server); on a prefill server it then registers the
// room. It returns when the prefill ended.
func (e *engine) prefill(ctx context.Context, j *job) (time.Time, error) {
	start := e.clock.Now()
	j.queueWait = start.Sub(j.arrival)
	if e.role == RoleDecode {
		return start, nil
	}
	end := e.lane.book(start, e.prefillWork(j.uncached())).Add(e.prefillOverhead())
	if err := e.sleepUntil(ctx, end); err != nil {
		return end, err
	}
	if e.role == RolePrefill && j.room != nil {
		e.rooms.register(j.room.room, roomInfo{PromptHash: hashTokens(j.prompt), PromptTokens: len(j.prompt), CachedTokens: j.cached})
		e.stats.rooms.Add(1)
	}
	return end, nil
}

// decode emits the job's tokens, the first at once (it came out of the
// prefill), each further one a decode step after the previous deadline.
func (e *engine) decode(ctx context.Context, j *job, deadline time.Time, cb progress) error {
	slept, last := deadline, len(j.out.ids)-1
	for i := range j.out.ids {
		if i > 0 {
			deadline = deadline.Add(e.stepTime())
			if i == last || deadline.Sub(slept) >= minSleep {
				if err := e.sleepUntil(ctx, deadline); err != nil {
					return err
				}
				slept = deadline
			}
		}
		j.emitted = i + 1
		e.sched.addTokens(j.ticket, 1)
		if err := cb(j, i == last); err != nil {
			return err
		}
	}
	return nil
}

// finish records a completed job in the cache and the counters.
func (e *engine) finish(j *job) {
	j.e2e = e.clock.Now().Sub(j.arrival)
	if e.role != RoleDecode {
		seq := make([]int, 0, len(j.prompt)+len(j.out.ids))
		e.cache.insert(j.rank, append(append(seq, j.prompt...), j.out.ids...))
	}
	e.stats.requests.Add(1)
	e.stats.promptTokens.Add(int64(len(j.prompt)))
	e.stats.cachedTokens.Add(int64(j.cached))
	e.stats.generationTokens.Add(int64(j.emitted))
	e.stats.ttftNanos.Add(int64(j.ttft))
	e.stats.e2eNanos.Add(int64(j.e2e))
	e.obs.e2e.Observe(j.e2e.Seconds())
}

// prefillWork is the lane time of uncached prompt tokens.
func (e *engine) prefillWork(uncached int) time.Duration {
	return scaled(float64(uncached)/e.cfg.PrefillTokensPerSec, e.cfg.TimeScale)
}

// prefillOverhead is the fixed cost of one request's prefill.
func (e *engine) prefillOverhead() time.Duration {
	return scaled(e.cfg.PrefillOverheadMs/1000, e.cfg.TimeScale)
}

func (e *engine) stepTime() time.Duration {
	batch := float64(max(e.sched.runningNow(), 1))
	sec := (1 + e.cfg.DecodeBatchSlope*(batch-1)) / e.cfg.DecodeTokensPerSec
	return scaled(sec, e.cfg.TimeScale)
}

// sleepUntil waits until the clock reaches deadline; with TimeScale 0 it
// never sleeps but still notices a cancelled ctx.
func (e *engine) sleepUntil(ctx context.Context, deadline time.Time) error {
	if e.cfg.TimeScale == 0 {
		return ctx.Err()
	}
	return e.clock.Sleep(ctx, deadline.Sub(e.clock.Now()))
}

func scaled(sec, scale float64) time.Duration {
	return time.Duration(sec * scale * float64(time.Second))
}
