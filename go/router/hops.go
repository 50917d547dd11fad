package router

import (
	"fmt"
	"net/http"
	"strconv"
)

// HopHeader counts the routers a request has passed through. Every request
// the router sends a worker on behalf of a client (forwards, PD legs, the
// admin fan-outs) carries the count it arrived with plus one, and a request
// that arrives with maxHops or more is refused with 508 Loop Detected. So a
// forwarding loop (routers listing each other as workers, or one router
// listing itself under another name) costs one failed request of maxHops
// forwards instead of every file descriptor of the process. 508 is never
// retried (see retryableStatus), so the loop does not multiply on its way
// back either.
const HopHeader = "X-Sglang-Router-Hops" // canonical form of X-SGLang-Router-Hops

// maxHops is the longest chain of routers a request may take: deeper than
// any sane tiering of routers, short enough that a loop is cheap.
const maxHops = 8

// hopValues[n] is the header value for n hops, shared and never modified,
// so stamping a forwarded request allocates nothing.
var hopValues = func() (v [maxHops + 1][]string) {
	for i := range v {
		v[i] = []string{strconv.Itoa(i)}
	}
	return v
}()

// hops reads how many routers r has passed through (0 without the header).
// A malformed count is the client's error; maxHops or more is ErrLoop.
func hops(r *http.Request) (int, error) {
	v := r.Header[HopHeader]
	if len(v) == 0 {
		return 0, nil
	}
	n, err := strconv.Atoi(v[0])
	switch {
	case err != nil || n < 0 || len(v) > 1:
		return 0, fmt.Errorf("%w: %s must be one non-negative integer", ErrBadRequest, HopHeader)
	case n >= maxHops:
		return 0, fmt.Errorf("%w: the request already went through %d routers (%s); do the routers list each other, or this one itself, as workers?",
			ErrLoop, n, HopHeader)
	}
	return n, nil
}

// nextHop is the header value a request that arrived with n hops is sent on with.
func nextHop(n int) []string { return hopValues[n+1] }
