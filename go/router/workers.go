package router

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/sgl-project/sglang-router-go/go/config"
	"github.com/sgl-project/sglang-router-go/go/worker"
)

// Errors of the worker-management calls.
var (
	ErrWorkerExists   = errors.New("worker already exists")
	ErrWorkerUnknown  = errors.New("worker not found")
	ErrWorkerNotReady = errors.New("worker did not become healthy")
)

// AddRequest describes a worker to add.
type AddRequest struct {
	URL           string
	Role          worker.Role
	BootstrapPort *int
	Wait          bool // wait until its /health answers 2xx (up to the startup timeout)
	// Healthy admits the worker at once without a check: the caller vouches
	// for it (Kubernetes discovery: the pod is Ready).
	Healthy bool
}

// addWorker serves POST /add_worker?url=U[&role=prefill|decode&bootstrap_port=N].
func (rt *Router) addWorker(w http.ResponseWriter, r *http.Request, _ string) int {
	req, err := rt.parseAdd(r)
	if err == nil {
		req.Wait = true
		err = rt.AddWorker(r.Context(), req)
	}
	if err != nil {
		return writeErrorStatus(w, http.StatusBadRequest, err.Error())
	}
	return plainOK(w, "Successfully added worker: "+req.URL)
}

func (rt *Router) parseAdd(r *http.Request) (AddRequest, error) {
	q := r.URL.Query()
	req := AddRequest{URL: config.NormalizeURL(q.Get("url")), Role: worker.Regular}
	if req.URL == "" {
		return req, errors.New("missing url query parameter: use /add_worker?url=http://host:port")
	}
	if err := config.CheckURL(req.URL); err != nil {
		return req, err
	}
	role := q.Get("role")
	switch {
	case !rt.PD() && role != "" && role != "regular":
		return req, fmt.Errorf("role=%s needs PD mode (--pd-disaggregation)", role)
	case rt.PD() && role == "prefill":
		req.Role = worker.Prefill
	case rt.PD() && role == "decode":
		req.Role = worker.Decode
	case rt.PD():
		return req, errors.New("in PD mode add_worker needs role=prefill or role=decode")
	}
	if p := q.Get("bootstrap_port"); p != "" && p != "none" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 || req.Role != worker.Prefill {
			return req, fmt.Errorf("Invalid bootstrap port: %s. Must be a number or 'none' (prefill workers only)", p)
		}
		req.BootstrapPort = &n
	}
	return req, nil
}

// poolFor returns the pool that holds workers of role.
func (rt *Router) poolFor(role worker.Role) (*Pool, error) {
	switch {
	case !rt.PD() && role == worker.Regular:
		return rt.regular, nil
	case rt.PD() && role == worker.Prefill:
		return rt.prefill, nil
	case rt.PD() && role == worker.Decode:
		return rt.decode, nil
	}
	return nil, fmt.Errorf("no %s pool in this mode", role)
}

// AddWorker adds a worker to its pool. With Wait it first polls the worker's
// /health every health interval until 2xx or the startup timeout, and the
// worker joins healthy; with Healthy it joins healthy at once; otherwise it
// joins unhealthy and the health checker admits it.
func (rt *Router) AddWorker(ctx context.Context, req AddRequest) error {
	pool, err := rt.poolFor(req.Role)
	if err != nil {
		return err
	}
	if pool.Registry.Get(req.URL) != nil {
		return fmt.Errorf("%w: %s", ErrWorkerExists, req.URL)
	}
	if req.Wait {
		if err := rt.waitHealthy(ctx, req.URL); err != nil {
			return err
		}
	}
	wk := rt.newWorker(req.URL, req.Role, req.BootstrapPort)
	wk.SetHealthy(req.Wait || req.Healthy)
	if err := pool.Registry.Add(wk); err != nil {
		return fmt.Errorf("%w: %s", ErrWorkerExists, req.URL)
	}
	rt.log.Info("worker added", zap.String("worker", req.URL), zap.String("role", req.Role.String()))
	return nil
}

func (rt *Router) waitHealthy(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, rt.opts.StartupTimeout)
	defer cancel()
	tick := time.NewTicker(rt.opts.HealthInterval)
	defer tick.Stop()
	for {
		if worker.Probe(ctx, rt.proxy.Client, url+rt.healthEndpoint(), rt.opts.HealthTimeout) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %s/health did not answer 2xx within %s", ErrWorkerNotReady, url, rt.opts.StartupTimeout)
		case <-tick.C:
		}
	}
}

// removeWorker serves POST /remove_worker?url=U.
func (rt *Router) removeWorker(w http.ResponseWriter, r *http.Request, _ string) int {
	url := config.NormalizeURL(r.URL.Query().Get("url"))
	if url == "" {
		return writeErrorStatus(w, http.StatusBadRequest, "missing url query parameter: use /remove_worker?url=http://host:port")
	}
	if err := rt.RemoveWorker(url); err != nil {
		return writeErrorStatus(w, http.StatusNotFound, err.Error())
	}
	return plainOK(w, "Successfully removed worker: "+url)
}

// RemoveWorker removes url from whichever pool holds it; the registry's
// listeners drop its policy state and metrics.
func (rt *Router) RemoveWorker(url string) error {
	for _, p := range rt.pools() {
		if _, err := p.Registry.Remove(url); err == nil {
			rt.log.Info("worker removed", zap.String("worker", url), zap.String("role", p.Role.String()))
			return nil
		}
	}
	return fmt.Errorf("%w: %s", ErrWorkerUnknown, url)
}

func (rt *Router) healthEndpoint() string {
	if rt.opts.HealthEndpoint == "" {
		return "/health"
	}
	return rt.opts.HealthEndpoint
}
