package policy

import (
	"sync/atomic"
	"time"

	"github.com/sgl-project/sglang-router-go/go/worker"
)

// soloWindow is how long every candidate's polled load must have matched
// this router's own in-flight count before the router takes itself to be
// alone. Ten polls at the default 200 ms interval: long enough that
// replicas of a router (each seeing only its share of the traffic) almost
// never all look alone at once, short enough that a lone router balances
// within seconds of starting.
const soloWindow = 500 * time.Millisecond

// The candidates together may report unseenSlack requests per worker,
// plus 1/unseenShare of this router's own in-flight count, beyond what
// this router sent them without that counting as another router's
// traffic: a poll answer and the in-flight count are not read at one
// instant, and requests finish in between. A second router sending even
// a third as much as this one exceeds it.
const (
	unseenSlack = 1
	unseenShare = 4
)

// solo tells whether this router is the only one sending to its workers.
// It fails to "not alone": a candidate never polled, or reporting more
// requests than this router sent it, resets the window at once; only
// soloWindow of clean observations makes the router alone again (the
// hysteresis). Safe for concurrent use.
type solo struct {
	now   func() time.Time
	since atomic.Int64 // UnixNano of the first clean observation in a row; 0 = none
}

func newSolo(clock func() time.Time) *solo {
	if clock == nil {
		clock = time.Now
	}
	return &solo{now: clock}
}

// alone reports whether every observation of cands for soloWindow showed
// no traffic from elsewhere, recording this one.
func (s *solo) alone(cands []*worker.Worker) bool {
	if seesOthers(cands) {
		s.since.Store(0)
		return false
	}
	now := s.now().UnixNano()
	since := s.since.Load()
	if since == 0 {
		s.since.CompareAndSwap(0, now)
		return false
	}
	return time.Duration(now-since) >= soloWindow
}

// seesOthers reports whether some candidate is unpolled or the
// candidates carry clearly more requests than this router sent them.
func seesOthers(cands []*worker.Worker) bool {
	var unseen, own int64
	for _, w := range cands {
		n, ok := w.UnseenLoad()
		if !ok {
			return true
		}
		unseen += n
		own += w.Load()
	}
	return unseen > unseenSlack*int64(len(cands))+own/unseenShare
}
