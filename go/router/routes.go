package router

import (
	"net/http"

	"github.com/sgl-project/sglang-router-go/go/reqbody"
)

// Kind says how the router serves a route.
type Kind uint8

const (
	// KindGenerate routes by the policy over the body's routing text and,
	// in PD mode, dispatches to a prefill and a decode worker.
	KindGenerate Kind = iota + 1
	// KindModel routes by the policy like KindGenerate but never in PD
	// pairs: the request needs a whole server (a generation route whose
	// SGLang request carries no bootstrap fields, or an embedding model).
	// In PD mode it goes to the prefill pool, or is refused when Decodes.
	KindModel
	// KindLoad goes to the least-loaded worker serving the body's model:
	// the answer depends on no cache (tokenize, rerank, score, ...).
	KindLoad
	// KindInfo is a GET forwarded to one worker (any model).
	KindInfo
	// KindFanout goes to every worker (per-server state).
	KindFanout
	// KindRouter is answered by the router itself.
	KindRouter
)

// String is the kind's name in docs.
func (k Kind) String() string {
	switch k {
	case KindGenerate:
		return "generate"
	case KindModel:
		return "model"
	case KindLoad:
		return "load"
	case KindInfo:
		return "info"
	case KindFanout:
		return "fan-out"
	case KindRouter:
		return "router"
	}
	return "unknown"
}

// RouteSpec describes one route a worker serves and the router forwards.
type RouteSpec struct {
	Path   string
	Method string
	Kind   Kind
	// Text says which body fields make the routing text (reqbody.Other:
	// none).
	Text reqbody.Route
	// Decodes marks generation routes: in PD mode, a KindModel route that
	// Decodes cannot be served (the prefill pool cannot generate alone).
	Decodes bool
	// About is the route's line in the README.
	About string
}

// ForwardedRoutes lists every SGLang route the router forwards to workers
// (one table: the README's list is checked against it). Routes the router
// owns (health, worker management) are in routeTable.
func ForwardedRoutes() []RouteSpec {
	post, get := http.MethodPost, http.MethodGet
	return []RouteSpec{
		{"/generate", post, KindGenerate, reqbody.Generate, true, "native generation (`text`, `input_ids`)"},
		{"/v1/chat/completions", post, KindGenerate, reqbody.ChatCompletions, true, "OpenAI chat (`messages`)"},
		{"/v1/completions", post, KindGenerate, reqbody.Completions, true, "OpenAI completions (`prompt`)"},
		{"/v1/responses", post, KindModel, reqbody.Responses, true, "OpenAI Responses (`input`); the response id is remembered for the routes below"},
		{"/v1/messages", post, KindModel, reqbody.Messages, true, "Anthropic Messages (`system` + `messages`)"},
		{"/invocations", post, KindModel, reqbody.ChatCompletions, true, "SageMaker chat"},
		{"/api/chat", post, KindModel, reqbody.ChatCompletions, true, "Ollama chat"},
		{"/api/generate", post, KindModel, reqbody.Completions, true, "Ollama generate (`prompt`)"},
		{"/vertex_generate", post, KindLoad, reqbody.Other, true, "Vertex AI generate"},
		{"/v1/embeddings", post, KindModel, reqbody.Embeddings, false, "OpenAI embeddings (`input`)"},
		{"/encode", post, KindModel, reqbody.Generate, false, "native embeddings"},
		{"/classify", post, KindModel, reqbody.Generate, false, "native reward/classification"},
		{"/v1/classify", post, KindLoad, reqbody.Other, false, "OpenAI-style classification"},
		{"/v1/rerank", post, KindLoad, reqbody.Other, false, "rerank"},
		{"/v1/score", post, KindLoad, reqbody.Other, false, "scoring"},
		{"/v1/messages/count_tokens", post, KindLoad, reqbody.Other, false, "Anthropic token count"},
		{"/tokenize", post, KindLoad, reqbody.Other, false, "tokenize"},
		{"/v1/tokenize", post, KindLoad, reqbody.Other, false, "tokenize"},
		{"/detokenize", post, KindLoad, reqbody.Other, false, "detokenize"},
		{"/v1/detokenize", post, KindLoad, reqbody.Other, false, "detokenize"},
		{"/parse_function_call", post, KindLoad, reqbody.Other, false, "parse tool calls from text"},
		{"/separate_reasoning", post, KindLoad, reqbody.Other, false, "split reasoning from text"},
		{"/api/show", post, KindLoad, reqbody.Other, false, "Ollama model details"},
		{"/get_model_info", get, KindInfo, reqbody.Other, false, "model info of one worker"},
		{"/get_server_info", get, KindInfo, reqbody.Other, false, "server info of one worker (PD: a decode worker)"},
		{"/get_weight_version", get, KindInfo, reqbody.Other, false, "weight version of one worker"},
		{"/api/tags", get, KindRouter, reqbody.Other, false, "Ollama's model list: every model the workers serve"},
		{"/abort_request", post, KindFanout, reqbody.Other, false, "abort by `rid` on the worker running it (PD: both legs), else on every worker"},
		{"/v1/models", get, KindRouter, reqbody.Other, false, "every model the workers serve, with its workers' health"},
		{"/v1/models/{model}", get, KindRouter, reqbody.Other, false, "one model, or 404 in OpenAI's format"},
		{"/v1/responses/{id}", get, KindRouter, reqbody.Other, false, "to the worker that created the response (also DELETE)"},
		{"/v1/responses/{id}/cancel", post, KindRouter, reqbody.Other, false, "to the worker that created the response"},
		{"/v1/responses/{id}/input_items", get, KindRouter, reqbody.Other, false, "to the worker that created the response"},
	}
}
