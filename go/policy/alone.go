package policy

import (
	"sync/atomic"
	"time"

	"github.com/sgl-project/sglang-router-go/go/worker"
)

// soloWindow is how long every candidate's polled load must have matched
// this router's own in-flight count before the router takes itself to be
// alone. Two to three polls at the default 200 ms interval (every
// request in it must see a clean poll): long enough that one poll taken
// in a lull does not make a replica alone, short enough that a lone
// router balances within a second of its first poll.
const soloWindow = 500 * time.Millisecond

// The candidates together may report unseenSlack requests per worker,
// plus 1/unseenShare of this router's own in-flight count, beyond what
// this router sent them without that counting as another router's
// traffic: a poll answer and the in-flight count are not read at one
// instant, and requests finish in between. With W workers and N
// replicas sharing the traffic evenly, each replica sees (N-1) times its
// own in-flight count unseen, so it is never alone once it has more than
// W/(N-1.25) requests in flight: 1.33 per worker with 2 replicas, 0.57
// with 3, 0.15 with 8. Below that the cluster is nearly idle, and a
// replica that then places a few requests for balance costs little
// agreement.
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
// no traffic from elsewhere, recording this one. Racing observations may
// let one clean observation read from an older poll restart the window
// just after another reset it; the next observation of the newer poll
// resets it again, so at most a request or two use the wrong rule.
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

// isAlone is alone's verdict as of the latest observation, without
// making one.
func (s *solo) isAlone() bool {
	since := s.since.Load()
	return since != 0 && time.Duration(s.now().UnixNano()-since) >= soloWindow
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
