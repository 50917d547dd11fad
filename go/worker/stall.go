package worker

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sgl-project/sglang-router-go/go/mono"
)

// CircuitStalled is the circuit-state value of a worker taken out of
// rotation by stall detection (see Stalls).
const CircuitStalled = 3

// progress is what stall detection knows of a worker. answers and stalled
// are touched on the request path (atomics, no clock read there); the rest
// belongs to the detector, under mu.
type progress struct {
	answers atomic.Uint64
	stalled atomic.Bool
	probing atomic.Bool // a probe of this worker is running

	mu           sync.Mutex // guards the detector's view below
	seenAnswers  uint64     // answers at the last check
	lastProgress time.Time  // when the detector last saw answers grow
	busySince    time.Time  // zero when the last check found nothing in flight
}

// Answered notes that the worker answered a request (its response headers
// arrived): evidence that it is working. A stalled worker that answers is
// back in rotation at once.
func (w *Worker) Answered() {
	w.progress.answers.Add(1)
	if w.progress.stalled.Load() {
		w.progress.stalled.Store(false)
	}
}

// Stalled reports whether stall detection holds the worker out of rotation.
func (w *Worker) Stalled() bool { return w.progress.stalled.Load() }

// observe updates the detector's view of w at now and reports whether w
// has answered since cutoff and whether it was silent (requests in flight
// throughout, no answer) since cutoff.
func (w *Worker) observe(now, cutoff time.Time) (answered, silent bool) {
	p := &w.progress
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := p.answers.Load(); n != p.seenAnswers {
		p.seenAnswers, p.lastProgress = n, now
	}
	switch {
	case w.inFlight.Load() == 0:
		p.busySince = time.Time{}
	case p.busySince.IsZero():
		p.busySince = now
	}
	answered = !p.lastProgress.IsZero() && !p.lastProgress.Before(cutoff)
	silent = !p.busySince.IsZero() && !p.busySince.After(cutoff) && !answered
	return answered, silent
}

// Stalls detects workers that accept requests but answer none while the
// rest of their pool answers (a hung GPU whose /health still says 200; the
// breaker cannot see it, for nothing fails until the request timeout), takes
// them out of rotation, and probes them with ProbePath until one answers.
//
// A worker is stalled when, over the last Timeout, it had requests in
// flight at every check and answered none, while another worker of its
// registry answered (a pool that is slow everywhere is loaded, not
// stalled). Detection takes between Timeout and Timeout plus one check
// period (Timeout/5, at most a second).
type Stalls struct {
	Client       *http.Client
	Timeout      time.Duration // <= 0 disables detection
	ProbePath    string        // "" means /health_generate
	ProbeTimeout time.Duration
	// Now is the clock (time.Now when nil); tests inject one.
	Now func() time.Time
	// OnChange is called when a worker is marked stalled or recovers
	// through a probe.
	OnChange func(w *Worker, stalled bool)
}

// Run checks every Timeout/5 (at most every second) until ctx is done.
func (s *Stalls) Run(ctx context.Context, regs ...*Registry) {
	if s.Timeout <= 0 {
		return
	}
	t := time.NewTicker(min(s.Timeout/5, time.Second))
	defer t.Stop()
	var probes sync.WaitGroup
	defer probes.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, reg := range regs {
			s.Check(reg.Snapshot())
		}
		s.probeStalled(ctx, regs, &probes)
	}
}

// Check looks at one pool, marks its newly stalled workers and returns them.
func (s *Stalls) Check(pool []*Worker) []*Worker {
	now := s.now()
	cutoff := now.Add(-s.Timeout)
	answering := false
	var silent []*Worker
	for _, w := range pool {
		a, q := w.observe(now, cutoff)
		answering = answering || a
		if q && !w.Stalled() {
			silent = append(silent, w)
		}
	}
	if !answering {
		return nil
	}
	for _, w := range silent {
		w.progress.stalled.Store(true)
		if s.OnChange != nil {
			s.OnChange(w, true)
		}
	}
	return silent
}

// probeStalled starts a probe of every stalled worker not being probed
// already; checks go on meanwhile (a probe of a hung worker lasts its whole
// timeout). At most one probe per worker runs; Run waits for them on exit.
func (s *Stalls) probeStalled(ctx context.Context, regs []*Registry, probes *sync.WaitGroup) {
	for _, reg := range regs {
		for _, w := range reg.Snapshot() {
			if w.Stalled() && w.progress.probing.CompareAndSwap(false, true) {
				probes.Add(1)
				go func() {
					defer probes.Done()
					defer w.progress.probing.Store(false)
					s.ProbeOne(ctx, w)
				}()
			}
		}
	}
}

// ProbeOne probes a stalled worker and returns it to rotation if the probe
// answers 2xx; it reports whether the worker came back.
func (s *Stalls) ProbeOne(ctx context.Context, w *Worker) bool {
	path := s.ProbePath
	if path == "" {
		path = "/health_generate"
	}
	if !Probe(ctx, s.Client, w.base+path, s.ProbeTimeout) || !w.progress.stalled.CompareAndSwap(true, false) {
		return false
	}
	w.resetProgress(s.now())
	if s.OnChange != nil {
		s.OnChange(w, false)
	}
	return true
}

// resetProgress starts the detector's view afresh: a worker back from a
// stall gets a full Timeout before it can be judged again.
func (w *Worker) resetProgress(now time.Time) {
	p := &w.progress
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lastProgress, p.busySince = now, time.Time{}
}

func (s *Stalls) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return mono.Now()
}
