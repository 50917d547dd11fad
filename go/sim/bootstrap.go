package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// The PD handshake. A prefill server, once it has prefilled a sequence
// that carries a bootstrap_room, registers the room as ready in its
// roomRegistry. Its bootstrap listener answers
//
//	GET /rooms/{room}?wait_ms=N   200 roomInfo when ready (long poll up to N ms), else 404
//	GET /health                   200
//
// A decode server asks http://bootstrap_host:bootstrap_port/rooms/{room}
// until the room is ready or its bootstrap timeout passes, and checks that
// the room was prefilled for the same prompt. So a decode answer proves
// the router sent one room, with the prefill server's address, to both.

// maxRooms bounds the ready rooms a prefill server remembers; the oldest
// are forgotten first.
const maxRooms = 1 << 16

// bootstrapHeader marks the bootstrap listener's answers, so a decode
// server sent to a port that is not one says so instead of waiting.
const bootstrapHeader = "X-Sim-Bootstrap"

// roomInfo is what a prefill server knows about a prefilled room.
type roomInfo struct {
	PromptHash   uint64 `json:"prompt_hash,string"`
	PromptTokens int    `json:"prompt_tokens"`
	CachedTokens int    `json:"cached_tokens"`
}

// roomRef is a sequence's bootstrap fields as the router sent them.
type roomRef struct {
	host string
	port int
	room uint64
}

func (r *roomRef) addr() string { return net.JoinHostPort(r.host, strconv.Itoa(r.port)) }

// roomRegistry maps rooms to their prefill state. Safe for concurrent
// use; mu guards rooms, order and seq.
type roomRegistry struct {
	mu    sync.Mutex
	rooms map[uint64]*roomEntry
	order []roomSeq // ready rooms, oldest first
	seq   uint64
}

type roomEntry struct {
	ready   chan struct{} // closed once info is set
	info    roomInfo
	done    bool
	seq     uint64 // registration number, to evict the right entry
	waiters int
}

type roomSeq struct{ room, seq uint64 }

func newRoomRegistry() *roomRegistry {
	return &roomRegistry{rooms: make(map[uint64]*roomEntry)}
}

// register marks room ready (again, if it was) and wakes its waiters.
func (r *roomRegistry) register(room uint64, info roomInfo) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.entryLocked(room)
	e.info = info
	if !e.done {
		e.done = true
		close(e.ready)
	}
	r.seq++
	e.seq = r.seq
	r.order = append(r.order, roomSeq{room, r.seq})
	for len(r.order) > maxRooms {
		old := r.order[0]
		r.order = r.order[1:]
		if e := r.rooms[old.room]; e != nil && e.seq == old.seq {
			delete(r.rooms, old.room)
		}
	}
}

func (r *roomRegistry) entryLocked(room uint64) *roomEntry {
	e := r.rooms[room]
	if e == nil {
		e = &roomEntry{ready: make(chan struct{})}
		r.rooms[room] = e
	}
	return e
}

// wait blocks until room is ready or ctx is done.
func (r *roomRegistry) wait(ctx context.Context, room uint64) (roomInfo, bool) {
	r.mu.Lock()
	e := r.entryLocked(room)
	e.waiters++
	r.mu.Unlock()
	select {
	case <-e.ready:
	case <-ctx.Done():
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e.waiters--
	if !e.done && e.waiters == 0 && r.rooms[room] == e {
		delete(r.rooms, room) // nobody prefilled it: forget the pending entry
	}
	return e.info, e.done
}

// bootstrapHandler serves the prefill side of the handshake.
func (s *Server) bootstrapHandler() http.Handler {
	mux := http.NewServeMux()
	mark := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.inflight.Add(1)
			defer s.inflight.Add(-1)
			w.Header().Set(bootstrapHeader, "1")
			next.ServeHTTP(w, r)
		})
	}
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("GET /rooms/{room}", func(w http.ResponseWriter, r *http.Request) {
		room, err := strconv.ParseUint(r.PathValue("room"), 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request_error", "room must be a non-negative integer")
			return
		}
		waitMs, _ := strconv.Atoi(r.URL.Query().Get("wait_ms"))
		ctx, stop := s.withBase(r.Context()) // Close ends long polls too
		defer stop()
		ctx, cancel := context.WithTimeout(ctx, time.Duration(min(max(waitMs, 0), 60000))*time.Millisecond)
		defer cancel()
		info, ok := s.eng.rooms.wait(ctx, room)
		if !ok {
			writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("room %d has not been prefilled here", room))
			return
		}
		writeJSON(w, http.StatusOK, info)
	})
	return mark(mux)
}

// roomClient is the decode side: it long-polls a prefill server's
// bootstrap listener.
type roomClient struct {
	http    *http.Client
	timeout time.Duration
}

// pollRetry spaces attempts while the bootstrap listener is unreachable.
const pollRetry = 20 * time.Millisecond

// await returns the room's info once the prefill server has it, checking
// it was prefilled for prompt; errors are 500s that name the problem.
func (c *roomClient) await(ctx context.Context, ref *roomRef, prompt []int) (roomInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var lastErr error
	for {
		info, found, err := c.poll(ctx, ref)
		switch {
		case found && info.PromptHash != hashTokens(prompt):
			return info, bootstrapError("bootstrap room %d at %s was prefilled for a different prompt (%d tokens; this request has %d)",
				ref.room, ref.addr(), info.PromptTokens, len(prompt))
		case found:
			return info, nil
		case err != nil && ctx.Err() != nil:
			// our own deadline cut the long poll: not a reachability problem
		case err != nil:
			lastErr = err
			_ = RealClock{}.Sleep(ctx, pollRetry)
		default:
			lastErr = nil // reachable; the room is just not ready yet
		}
		if ctx.Err() != nil {
			return roomInfo{}, c.timeoutError(ref, lastErr)
		}
	}
}

func (c *roomClient) timeoutError(ref *roomRef, lastErr error) error {
	if lastErr != nil {
		return bootstrapError("bootstrap room %d: cannot reach the prefill bootstrap server at %s within %v: %v",
			ref.room, ref.addr(), c.timeout, lastErr)
	}
	return bootstrapError("bootstrap room %d was not prefilled at %s within %v (was the same bootstrap_room sent to that prefill server?)",
		ref.room, ref.addr(), c.timeout)
}

// poll asks once, waiting server-side for the rest of ctx's time.
func (c *roomClient) poll(ctx context.Context, ref *roomRef) (roomInfo, bool, error) {
	wait := time.Second
	if dl, ok := ctx.Deadline(); ok {
		wait = time.Until(dl) * 9 / 10 // answer 404 before our deadline cuts the poll
	}
	url := fmt.Sprintf("http://%s/rooms/%d?wait_ms=%d", ref.addr(), ref.room, wait.Milliseconds())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return roomInfo{}, false, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return roomInfo{}, false, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	switch {
	case err != nil:
		return roomInfo{}, false, err
	case resp.Header.Get(bootstrapHeader) == "":
		return roomInfo{}, false, fmt.Errorf("%s is not a bootstrap server (HTTP %d)", ref.addr(), resp.StatusCode)
	case resp.StatusCode == http.StatusNotFound:
		return roomInfo{}, false, nil
	}
	var info roomInfo
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &info) != nil {
		return roomInfo{}, false, fmt.Errorf("bootstrap server answered %d: %.200s", resp.StatusCode, body)
	}
	return info, true, nil
}
