package router

import (
	"sync"

	"github.com/sgl-project/sglang-router-go/go/worker"
)

// rids maps the SGLang request id ("rid") of each request in flight that
// named one to the workers running it (two in PD mode), so /abort_request
// reaches exactly them. An entry lives from dispatch until the request's
// handler returns, so the table is bounded by the requests in flight.
type rids struct {
	mu sync.Mutex // guards m
	m  map[string]ridEntry
}

// ridEntry is where one rid runs; owner is the call that put it, so a
// later request reusing the rid is not dropped by an earlier one's end.
type ridEntry struct {
	owner   *call
	workers []*worker.Worker
}

func newRIDs() *rids { return &rids{m: map[string]ridEntry{}} }

// put notes that c's rid now runs on ws (a retry moves it).
func (t *rids) put(c *call, ws ...*worker.Worker) {
	t.mu.Lock()
	t.m[c.rid] = ridEntry{owner: c, workers: ws}
	t.mu.Unlock()
}

// drop forgets c's rid unless another call took it over.
func (t *rids) drop(c *call) {
	t.mu.Lock()
	if e, ok := t.m[c.rid]; ok && e.owner == c {
		delete(t.m, c.rid)
	}
	t.mu.Unlock()
}

// get returns the workers running rid, or nil.
func (t *rids) get(rid string) []*worker.Worker {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m[rid].workers
}
