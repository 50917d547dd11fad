package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sgl-project/sglang-router-go/go/app"
	"github.com/sgl-project/sglang-router-go/go/config"
	"github.com/sgl-project/sglang-router-go/go/worker"
)

var errBadArgs = errors.New("bad arguments")

// routerService adapts an app.App to the handle table.
type routerService struct{ *app.App }

func startRouter(configJSON []byte) any {
	cfg, err := config.Parse(configJSON)
	if err != nil {
		return errorResult(&app.Error{Class: app.ClassConfig, Err: err})
	}
	a, err := app.New(cfg, app.Options{})
	if err != nil {
		return errorResult(err)
	}
	if err := a.Start(); err != nil {
		return errorResult(err)
	}
	return map[string]any{"handle": register(routerService{a}), "address": a.Addr(), "metrics_address": a.MetricsAddr()}
}

// addArgs are the arguments of the "add_worker" and "add_worker_async" calls.
type addArgs struct {
	URL           string `json:"url"`
	Role          string `json:"role"`
	BootstrapPort *int   `json:"bootstrap_port"`
	Wait          bool   `json:"wait"`
}

// spec checks the arguments and says how the worker joins.
func (a addArgs) spec() (worker.Spec, worker.Admission, error) {
	role, err := worker.ParseRole(a.Role)
	if err != nil {
		return worker.Spec{}, 0, err
	}
	spec, err := worker.ParseSpec(a.URL, role, a.BootstrapPort)
	if a.Wait {
		return spec, worker.WhenHealthy, err
	}
	return spec, worker.AfterCheck, err
}

func (s routerService) Call(method string, args []byte) (any, error) {
	switch method {
	case "add_worker", "add_worker_async":
		var a addArgs
		if err := unmarshalArgs(args, &a); err != nil {
			return nil, err
		}
		spec, how, err := a.spec()
		if err != nil {
			return nil, err
		}
		if method == "add_worker_async" {
			return map[string]any{"handle": register(startAdd(s.App, spec, how))}, nil
		}
		return ok(s.AddWorker(context.Background(), spec, how))
	case "remove_worker":
		var a addArgs
		if err := unmarshalArgs(args, &a); err != nil {
			return nil, err
		}
		return ok(s.RemoveWorker(a.URL))
	case "list_workers":
		return s.ListWorkers(), nil
	case "abort":
		s.Abort()
		return map[string]bool{"ok": true}, nil
	case "inflight":
		return map[string]any{"inflight": s.InFlight(), "grace_secs": s.Config().ShutdownGracePeriodSecs}, nil
	case "info":
		cfg := s.Config()
		mode := "regular"
		if cfg.PDDisaggregation {
			mode = "pd"
		}
		return map[string]any{"address": s.Addr(), "metrics_address": s.MetricsAddr(), "mode": mode, "policy": cfg.Policy}, nil
	}
	return nil, fmt.Errorf("%w: unknown method %q", errBadArgs, method)
}

// addOp is an add_worker running in the background under its own handle,
// so Python waits for it in short slices (sgl_wait) and Ctrl-C reaches
// Python, which then cancels it (sgl_stop). Its goroutine ends when the add
// does: the worker answered, the startup timeout passed, it was cancelled
// or the router stopped.
type addOp struct {
	cancel context.CancelFunc
	done   chan struct{}
	err    error // written before done is closed
}

func startAdd(a *app.App, spec worker.Spec, how worker.Admission) *addOp {
	ctx, cancel := context.WithCancel(context.Background())
	op := &addOp{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(op.done)
		defer func() { // a panic must not kill the host process
			if r := recover(); r != nil {
				op.err = fmt.Errorf("panic in add_worker: %v", r)
			}
		}()
		op.err = a.AddWorker(ctx, spec, how)
	}()
	return op
}

func (o *addOp) Done() <-chan struct{} { return o.done }

func (o *addOp) Err() error {
	select {
	case <-o.done:
		return o.err
	default:
		return nil
	}
}

// Shutdown cancels the add if it still runs and waits for it to end.
func (o *addOp) Shutdown(ctx context.Context) error {
	o.cancel()
	select {
	case <-o.done:
	case <-ctx.Done():
	}
	return nil
}

func (o *addOp) Call(method string, _ []byte) (any, error) {
	return nil, fmt.Errorf("%w: unknown method %q", errBadArgs, method)
}

func unmarshalArgs(args []byte, v any) error {
	if len(args) == 0 {
		return nil
	}
	if err := json.Unmarshal(args, v); err != nil {
		return fmt.Errorf("%w: %v", errBadArgs, err)
	}
	return nil
}

func ok(err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return map[string]bool{"ok": true}, nil
}
