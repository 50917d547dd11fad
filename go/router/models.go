package router

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sgl-project/sglang-router-go/go/worker"
)

// errUnknownModel: the request names a model no worker serves.
var errUnknownModel = errors.New("unknown model")

// resolveModel says which model's workers serve a request whose body
// named requested:
//   - a model some worker serves: that model;
//   - no model: the configured default model, else the only model served,
//     else "" (any worker, as before models were known);
//   - a model nobody serves: errUnknownModel when the router serves
//     several models; with one model (or none learned) it is served like
//     no model, as a single SGLang server answers any model name.
//
// Served models are read from the pools' snapshots, so a worker's model
// counts from the moment it is learned.
func (rt *Router) resolveModel(requested string) (string, error) {
	one, several := rt.servedModels(requested)
	switch {
	case requested != "" && one == requested:
		return requested, nil
	case requested != "" && several:
		return "", errUnknownModel
	case rt.opts.DefaultModel != "":
		return rt.opts.DefaultModel, nil
	case !several:
		return one, nil
	}
	return "", nil
}

// servedModels scans the workers' models without allocating: one is
// prefer if some worker serves it, else the first model seen ("" when
// none is known); several says whether more than one model is served.
func (rt *Router) servedModels(prefer string) (one string, several bool) {
	first, hasPrefer := "", false
	for _, p := range rt.pools() {
		for _, w := range p.Registry.Snapshot() {
			m := w.Model()
			switch {
			case m == "":
				continue
			case first == "":
				first = m
			case m != first:
				several = true
			}
			hasPrefer = hasPrefer || m == prefer
		}
	}
	if hasPrefer {
		return prefer, several
	}
	return first, several
}

// modelWorkers groups the workers of every pool by model ("" excluded).
func (rt *Router) modelWorkers() map[string][]*worker.Worker {
	out := map[string][]*worker.Worker{}
	for _, p := range rt.pools() {
		for _, w := range p.Registry.Snapshot() {
			if m := w.Model(); m != "" {
				out[m] = append(out[m], w)
			}
		}
	}
	return out
}

// recordModel counts c in the per-model metrics.
func (rt *Router) recordModel(c *call) {
	rt.rec.RecordModelRequest(c.model, time.Since(c.start))
}

// writeModelNotFound answers a request for a model no worker serves, in
// OpenAI's error format.
func writeModelNotFound(w http.ResponseWriter, model string) int {
	if len(model) > worker.MaxModelLen { // no model is longer: do not echo a huge name
		model = model[:worker.MaxModelLen] + "..."
	}
	writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]any{
		"message": "The model '" + model + "' does not exist",
		"type":    "invalid_request_error", "param": "model", "code": "model_not_found",
	}})
	return http.StatusNotFound
}

// modelCard is one entry of /v1/models: OpenAI's fields, plus the
// workers serving the model and whether each is healthy.
type modelCard struct {
	ID      string         `json:"id"`
	Object  string         `json:"object"`
	Created int64          `json:"created"`
	OwnedBy string         `json:"owned_by"`
	Root    string         `json:"root"`
	Workers []workerHealth `json:"workers"`
}

type workerHealth struct {
	URL     string `json:"url"`
	Role    string `json:"role"`
	Healthy bool   `json:"healthy"`
}

func newModelCard(model string, ws []*worker.Worker) modelCard {
	c := modelCard{ID: model, Object: "model", OwnedBy: "sglang", Root: model, Workers: []workerHealth{}}
	for _, w := range ws {
		c.Workers = append(c.Workers, workerHealth{URL: w.URL(), Role: w.Role().String(), Healthy: w.Available(time.Now())})
	}
	return c
}

// listModels answers GET /v1/models from what the router learned: every
// model with its workers. While no worker's model is known it forwards to
// a worker, as before.
func (rt *Router) listModels(w http.ResponseWriter, r *http.Request, id string) int {
	byModel := rt.modelWorkers()
	if len(byModel) == 0 {
		return rt.forwardInfo("/v1/models", rt.infoPool(false))(w, r, id)
	}
	names := make([]string, 0, len(byModel))
	for m := range byModel {
		names = append(names, m)
	}
	slices.Sort(names)
	cards := make([]modelCard, len(names))
	for i, m := range names {
		cards[i] = newModelCard(m, byModel[m])
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": cards})
	return http.StatusOK
}

// ollamaTags answers Ollama's GET /api/tags from what the router learned:
// every model, by name. While no worker's model is known it forwards to a
// worker.
func (rt *Router) ollamaTags(w http.ResponseWriter, r *http.Request, id string) int {
	byModel := rt.modelWorkers()
	if len(byModel) == 0 {
		return rt.forwardInfo("/api/tags", rt.infoPool(false))(w, r, id)
	}
	tags := make([]map[string]any, 0, len(byModel))
	for m := range byModel {
		tags = append(tags, map[string]any{"name": m, "model": m, "size": 0, "digest": "", "details": map[string]any{}})
	}
	slices.SortFunc(tags, func(a, b map[string]any) int { return strings.Compare(a["name"].(string), b["name"].(string)) })
	writeJSON(w, http.StatusOK, map[string]any{"models": tags})
	return http.StatusOK
}

// getModel answers GET /v1/models/{model}: its card, or 404 in OpenAI's
// format. While no worker's model is known it forwards to a worker.
func (rt *Router) getModel(w http.ResponseWriter, r *http.Request, id string) int {
	byModel := rt.modelWorkers()
	if len(byModel) == 0 {
		return rt.forwardInfoAs(r.URL.Path, "/v1/models/{model}", rt.infoPool(false))(w, r, id)
	}
	model := strings.TrimPrefix(r.URL.Path, "/v1/models/")
	ws, ok := byModel[model]
	if !ok {
		return writeModelNotFound(w, model)
	}
	writeJSON(w, http.StatusOK, newModelCard(model, ws))
	return http.StatusOK
}
