package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sgl-project/sglang-router-go/go/app"
	"github.com/sgl-project/sglang-router-go/go/config"
	"github.com/sgl-project/sglang-router-go/go/router"
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

// addArgs are the arguments of the "add_worker" call.
type addArgs struct {
	URL           string `json:"url"`
	Role          string `json:"role"`
	BootstrapPort *int   `json:"bootstrap_port"`
	Wait          bool   `json:"wait"`
}

func (s routerService) Call(method string, args []byte) (any, error) {
	rt := s.Router()
	switch method {
	case "add_worker":
		var a addArgs
		if err := unmarshalArgs(args, &a); err != nil {
			return nil, err
		}
		role, err := parseRole(a.Role)
		if err != nil {
			return nil, err
		}
		req := router.AddRequest{URL: config.NormalizeURL(a.URL), Role: role, BootstrapPort: a.BootstrapPort, Wait: a.Wait}
		if err := config.CheckURL(req.URL); err != nil {
			return nil, fmt.Errorf("%w: %v", errBadArgs, err)
		}
		return ok(rt.AddWorker(context.Background(), req))
	case "remove_worker":
		var a addArgs
		if err := unmarshalArgs(args, &a); err != nil {
			return nil, err
		}
		return ok(rt.RemoveWorker(config.NormalizeURL(a.URL)))
	case "list_workers":
		return rt.ListWorkers(), nil
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

func unmarshalArgs(args []byte, v any) error {
	if len(args) == 0 {
		return nil
	}
	if err := json.Unmarshal(args, v); err != nil {
		return fmt.Errorf("%w: %v", errBadArgs, err)
	}
	return nil
}

func parseRole(s string) (worker.Role, error) {
	switch s {
	case "", "regular":
		return worker.Regular, nil
	case "prefill":
		return worker.Prefill, nil
	case "decode":
		return worker.Decode, nil
	}
	return 0, fmt.Errorf("%w: role must be regular, prefill or decode, got %q", errBadArgs, s)
}

func ok(err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return map[string]bool{"ok": true}, nil
}
