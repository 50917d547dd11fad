package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sgl-project/sglang-router-go/go/app"
	"github.com/sgl-project/sglang-router-go/go/worker"
)

// service is what a handle names: a router or a simulator cluster.
type service interface {
	Done() <-chan struct{}
	Err() error
	Shutdown(ctx context.Context) error
	Call(method string, args []byte) (any, error)
}

// handles is the library's only state: the live services by handle. It is a
// table, not a singleton service, so any number of routers coexist.
var handles = struct {
	sync.Mutex // guards m and next
	m          map[int64]service
	next       int64
}{m: map[int64]service{}}

func register(s service) int64 {
	handles.Lock()
	defer handles.Unlock()
	handles.next++
	handles.m[handles.next] = s
	return handles.next
}

func lookup(h int64) (service, error) {
	handles.Lock()
	defer handles.Unlock()
	s, ok := handles.m[h]
	if !ok {
		return nil, &app.Error{Class: "not_found", Err: fmt.Errorf("no running service with handle %d", h)}
	}
	return s, nil
}

func release(h int64) {
	handles.Lock()
	delete(handles.m, h)
	handles.Unlock()
}

func waitService(h int64, timeout time.Duration) any {
	s, err := lookup(h)
	if err != nil {
		return errorResult(err)
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-s.Done():
		if err := s.Err(); err != nil {
			return map[string]any{"done": true, "error": errorBody(err)}
		}
		if c, ok := s.(interface{ ExitCode() int }); ok {
			return map[string]any{"done": true, "exit_code": c.ExitCode()}
		}
		return map[string]any{"done": true}
	case <-t.C:
		return map[string]any{"done": false}
	}
}

func stopService(h int64, grace time.Duration) any {
	s, err := lookup(h)
	if err != nil {
		return errorResult(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err = s.Shutdown(ctx)
	release(h)
	if err != nil {
		return errorResult(err)
	}
	return map[string]any{"ok": true}
}

func callService(h int64, method string, args []byte) any {
	s, err := lookup(h)
	if err != nil {
		return errorResult(err)
	}
	out, err := s.Call(method, args)
	if err != nil {
		return errorResult(err)
	}
	return out
}

func errorResult(err error) map[string]any { return map[string]any{"error": errorBody(err)} }

// errorBody classifies err for Python: "config" becomes ValueError, the
// rest RuntimeError.
func errorBody(err error) map[string]string {
	class := "internal"
	var ae *app.Error
	switch {
	case errors.As(err, &ae):
		class = ae.Class
	case errors.Is(err, worker.ErrExists):
		class = "conflict"
	case errors.Is(err, worker.ErrNotFound):
		class = "not_found"
	case errors.Is(err, worker.ErrNotReady):
		class = "not_ready"
	case errors.Is(err, worker.ErrBusy):
		class = "busy"
	case errors.Is(err, context.Canceled):
		class = "cancelled"
	case errors.Is(err, errBadArgs), errors.Is(err, worker.ErrInvalidSpec):
		class = "config"
	}
	return map[string]string{"class": class, "message": err.Error()}
}
