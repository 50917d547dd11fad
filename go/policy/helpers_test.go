package policy

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sgl-project/sglang-router-go/go/worker"
)

// pool returns n healthy workers http://w0 ... with the given in-flight loads.
func pool(t testing.TB, loads ...int) []*worker.Worker {
	t.Helper()
	ws := make([]*worker.Worker, len(loads))
	for i, l := range loads {
		ws[i] = worker.New(fmt.Sprintf("http://w%d", i), worker.Regular, nil)
		ws[i].SetHealthy(true)
		for range l {
			ws[i].Acquire()
		}
	}
	return ws
}

// script returns a Rand that replays values (each taken modulo n).
func script(values ...int) func(int) int {
	var mu sync.Mutex
	i := 0
	return func(n int) int {
		mu.Lock()
		defer mu.Unlock()
		v := values[i%len(values)]
		i++
		return v % n
	}
}

// recorder is an Observer that remembers decisions in order.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(e string) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}
func (r *recorder) CacheHit(w string)  { r.add("hit " + w) }
func (r *recorder) CacheMiss(w string) { r.add("miss " + w) }
func (r *recorder) LoadImbalanced()    { r.add("imbalanced") }

func (r *recorder) last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) == 0 {
		return ""
	}
	return r.events[len(r.events)-1]
}

// testClock is a clock tests move by hand (advance), and that moves by
// step at each reading.
type testClock struct {
	mu   sync.Mutex
	now  time.Time
	step time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(c.step)
	return c.now
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func urlOf(w *worker.Worker) string {
	if w == nil {
		return "<nil>"
	}
	return w.URL()
}
