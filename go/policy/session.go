package policy

import "github.com/sgl-project/sglang-router-go/go/worker"

// Sticky returns the worker of a session: the rendezvous choice for the
// session key among the candidates that are not hot (see hot), judged by
// their load alone (not busy: a request waiting for its first token is
// known only to the replica that sent it, and the session's worker must
// be the same on every replica). Every
// replica of the router computes the same worker from the same healthy
// set, without sharing anything. When that worker leaves the candidates
// (unhealthy, circuit open) or becomes hot, the session moves to the next
// worker in its rendezvous order, the same on every replica, and comes
// back when it recovers. nil when cands is empty or every candidate is
// hot: the caller routes the request as it would without a session.
func Sticky(cands []*worker.Worker, session string) *worker.Worker {
	return place(cands, fnv1a(session), load)
}

// Home returns the worker cache_aware places a prefix on when no
// candidate is known to hold it: the rendezvous choice for the text's
// leading block among the candidates that are not hot (by busy: a new
// prefix's uncached prefill waits behind the worker's prefill queue); nil
// for empty text or candidates, or when every candidate is hot.
func Home(cands []*worker.Worker, text string) *worker.Worker {
	if text == "" {
		return nil
	}
	return place(cands, keyHash(text), busy)
}

// place is the rendezvous choice for key among the candidates that are
// not hot by the load weigh gives them, or nil.
func place(cands []*worker.Worker, key uint64, weigh func(*worker.Worker) int64) *worker.Worker {
	if len(cands) == 0 {
		return nil
	}
	pr := pressureOf(cands)
	return rendezvous(cands, key, func(w *worker.Worker) bool { return !pr.hot(weigh(w), w) })
}
