package main

import (
	"context"
	"fmt"

	"github.com/sgl-project/sglang-router-go/go/app"
	"github.com/sgl-project/sglang-router-go/go/sim"
)

// simService adapts a simulator cluster to the handle table.
type simService struct{ *sim.Cluster }

func startSim(configJSON []byte) any {
	cfg, err := sim.ParseConfig(configJSON)
	if err != nil {
		return errorResult(&app.Error{Class: app.ClassConfig, Err: err})
	}
	c, err := sim.StartCluster(context.Background(), cfg)
	if err != nil {
		return errorResult(&app.Error{Class: app.ClassBind, Err: err})
	}
	return map[string]any{"handle": register(simService{c}), "urls": c.URLs(), "bootstrap_ports": c.BootstrapPorts()}
}

// Call answers "urls" and "stats" (each server's engine counters).
func (s simService) Call(method string, _ []byte) (any, error) {
	switch method {
	case "urls":
		return map[string]any{"urls": s.URLs(), "bootstrap_ports": s.BootstrapPorts()}, nil
	case "stats":
		return map[string]any{"servers": s.Stats()}, nil
	}
	return nil, fmt.Errorf("%w: unknown method %q", errBadArgs, method)
}
