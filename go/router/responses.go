package router

import (
	"bytes"
	"net/http"
	"strings"
	"sync"

	"github.com/sgl-project/sglang-router-go/go/mono"
	"github.com/sgl-project/sglang-router-go/go/worker"
)

// maxResponseIDs bounds the table of stored responses: the oldest id is
// forgotten first.
const maxResponseIDs = 1 << 16

// sniffLimit is how much of a /v1/responses answer is searched for the
// response's id: it comes first (in the object, or in the first event).
const sniffLimit = 8 << 10

// respIDs maps the id of each response a worker created through this
// router (OpenAI Responses API) to that worker's URL, so retrieving,
// deleting or cancelling it by id reaches the worker that stores it.
type respIDs struct {
	mu   sync.Mutex // guards m, ring and next
	m    map[string]string
	ring []string // ids in insertion order, overwritten when full
	next int
}

func newRespIDs() *respIDs {
	return &respIDs{m: map[string]string{}, ring: make([]string, 0, 64)}
}

// put records that id lives on the worker at url.
func (t *respIDs) put(id, url string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.m[id]; ok {
		t.m[id] = url
		return
	}
	if len(t.ring) < maxResponseIDs {
		t.ring = append(t.ring, id)
	} else {
		delete(t.m, t.ring[t.next])
		t.ring[t.next] = id
		t.next = (t.next + 1) % maxResponseIDs
	}
	t.m[id] = url
}

func (t *respIDs) get(id string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m[id]
}

// idSniffer passes a response through and keeps its first bytes, to read
// the response id from.
type idSniffer struct {
	http.ResponseWriter
	head []byte
}

func (s *idSniffer) Write(b []byte) (int, error) {
	if n := sniffLimit - len(s.head); n > 0 {
		s.head = append(s.head, b[:min(n, len(b))]...)
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController flush the stream underneath.
func (s *idSniffer) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// responseID finds the first "id" string in head: the response object's
// own, or in a stream the one of the response.created event. "" if none.
func responseID(head []byte) string {
	i := bytes.Index(head, []byte(`"id"`))
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(head[i+4:], " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return ""
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) == 0 || rest[0] != '"' {
		return ""
	}
	end := bytes.IndexAny(rest[1:], "\"\\")
	if end <= 0 || end > 256 || rest[1+end] != '"' {
		return ""
	}
	return string(rest[1 : 1+end])
}

// storedResponse serves GET/DELETE /v1/responses/{id},
// POST /v1/responses/{id}/cancel and GET /v1/responses/{id}/input_items:
// forwarded to the worker that created the response, or 404 in OpenAI's
// format when the router does not know the id (or that worker left).
func (rt *Router) storedResponse(w http.ResponseWriter, r *http.Request, id string) int {
	rest := strings.TrimPrefix(r.URL.Path, "/v1/responses/")
	respID, sub, _ := strings.Cut(rest, "/")
	if !allowedOnResponse(r.Method, sub) {
		return writeErrorStatus(w, http.StatusNotFound, "no route for "+r.Method+" "+r.URL.Path)
	}
	wk := rt.responseWorker(respID)
	if wk == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]any{
			"message": "Response '" + respID + "' not found", "type": "invalid_request_error", "param": "response_id", "code": 404,
		}})
		return http.StatusNotFound
	}
	n, err := hops(r)
	if err != nil {
		return writeError(w, err)
	}
	c := &call{w: w, r: r, id: id, path: r.URL.Path, label: "/v1/responses/{id}", hops: n, start: mono.Now()}
	if r.Method == http.MethodPost {
		var reserved int64
		c.body, reserved, err = rt.readBody(w, r)
		defer rt.bodies.give(reserved)
		if err != nil {
			return writeError(w, err)
		}
	}
	return rt.forward(c, func(tried []*worker.Worker) *worker.Worker {
		if len(tried) > 0 {
			return nil // only that worker holds the response
		}
		return wk
	})
}

func allowedOnResponse(method, sub string) bool {
	switch sub {
	case "":
		return method == http.MethodGet || method == http.MethodDelete
	case "cancel":
		return method == http.MethodPost
	case "input_items":
		return method == http.MethodGet
	}
	return false
}

// responseWorker is the worker that created response respID, if it is
// still in the router's pools.
func (rt *Router) responseWorker(respID string) *worker.Worker {
	url := rt.respIDs.get(respID)
	if url == "" {
		return nil
	}
	for _, p := range rt.pools() {
		if wk := p.Registry.Get(url); wk != nil {
			return wk
		}
	}
	return nil
}
