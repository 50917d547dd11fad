package sim

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
)

// The routes beyond generation that an SGLang server answers: Responses
// and Anthropic Messages (through the engine, like chat), and the
// stateless ones (embeddings, rerank, score, classify, tokenize,
// detokenize, token counts, abort), answered at once with plausible,
// deterministic bodies.

func (s *Server) moreRoutes(mux *http.ServeMux) {
	mux.Handle("POST /v1/responses", s.generation(s.parseResponses))
	mux.Handle("POST /v1/messages", s.generation(s.parseMessages))
	mux.HandleFunc("GET /v1/responses/{id}", s.getResponse)
	mux.HandleFunc("DELETE /v1/responses/{id}", s.deleteResponse)
	mux.HandleFunc("POST /v1/messages/count_tokens", s.utility(s.countTokens))
	mux.HandleFunc("POST /v1/embeddings", s.utility(s.embeddings))
	mux.HandleFunc("POST /encode", s.utility(s.encode))
	mux.HandleFunc("POST /classify", s.utility(s.encode))
	mux.HandleFunc("POST /v1/classify", s.utility(s.classify))
	mux.HandleFunc("POST /v1/rerank", s.utility(s.rerank))
	mux.HandleFunc("POST /v1/score", s.utility(s.score))
	for _, p := range []string{"/tokenize", "/v1/tokenize"} {
		mux.HandleFunc("POST "+p, s.utility(s.tokenize))
	}
	for _, p := range []string{"/detokenize", "/v1/detokenize"} {
		mux.HandleFunc("POST "+p, s.utility(s.detokenize))
	}
	mux.HandleFunc("POST /abort_request", s.utility(s.abortRequest))
}

// utility wraps a handler of a body route that does not use the engine:
// it reads and decodes the body, then writes what answer returns.
func (s *Server) utility(answer func(body map[string]json.RawMessage) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.eng.stats.httpRequests.Add(1)
		data, err := readBody(r)
		if err != nil {
			writeErr(w, err)
			return
		}
		var body map[string]json.RawMessage
		if err := decodeBody(data, &body); err != nil {
			writeErr(w, err)
			return
		}
		out, err := answer(body)
		if err != nil {
			writeErr(w, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	}
}

// texts reads a field that is a string, a list of strings, a list of ids
// or a list of lists of ids, as the token lists it stands for.
func (s *Server) texts(raw json.RawMessage, field string) ([][]int, error) {
	if isNull(raw) {
		return nil, badRequest("%s is required", field)
	}
	if ts, _, err := oneOrMany[string](raw); err == nil {
		out := make([][]int, len(ts))
		for i, t := range ts {
			out[i] = s.eng.tok.encode(t)
		}
		return out, nil
	}
	lists, _, err := tokenLists(raw)
	if err != nil {
		return nil, badRequest("%s must be a string, a list of strings or token ids", field)
	}
	return lists, nil
}

// vector is a deterministic unit vector of the tokens (dim 8): the same
// text always embeds the same.
func (s *Server) vector(ids []int) []float64 {
	v := make([]float64, 8)
	for i, id := range ids {
		v[(i+id)%8] += float64(id%97+1) / 97
	}
	norm := 0.0
	for _, x := range v {
		norm += x * x
	}
	if norm == 0 {
		v[0], norm = 1, 1
	}
	for i := range v {
		v[i] /= math.Sqrt(norm)
	}
	return v
}

func (s *Server) modelOf(body map[string]json.RawMessage) string {
	var m string
	if json.Unmarshal(body["model"], &m) != nil || m == "" {
		return s.cfg.Model
	}
	return m
}

func (s *Server) embeddings(body map[string]json.RawMessage) (any, error) {
	lists, err := s.texts(body["input"], "input")
	if err != nil {
		return nil, err
	}
	data, tokens := make([]any, len(lists)), 0
	for i, ids := range lists {
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": s.vector(ids)}
		tokens += len(ids)
	}
	return map[string]any{"object": "list", "data": data, "model": s.modelOf(body),
		"usage": map[string]any{"prompt_tokens": tokens, "total_tokens": tokens}}, nil
}

// encode answers /encode and /classify: SGLang's native embedding shape.
func (s *Server) encode(body map[string]json.RawMessage) (any, error) {
	raw := body["text"]
	if isNull(raw) {
		raw = body["input_ids"]
	}
	lists, err := s.texts(raw, "text")
	if err != nil {
		return nil, err
	}
	out := make([]any, len(lists))
	for i, ids := range lists {
		out[i] = map[string]any{"embedding": s.vector(ids), "meta_info": map[string]any{"id": s.newID(), "prompt_tokens": len(ids)}}
	}
	if isList(raw) && len(out) > 1 {
		return out, nil
	}
	return out[0], nil
}

func (s *Server) classify(body map[string]json.RawMessage) (any, error) {
	lists, err := s.texts(body["input"], "input")
	if err != nil {
		return nil, err
	}
	data := make([]any, len(lists))
	for i, ids := range lists {
		p := s.vector(ids)[0] * s.vector(ids)[0]
		label := "LABEL_0"
		if p < 0.5 {
			label = "LABEL_1"
		}
		data[i] = map[string]any{"index": i, "label": label, "probs": []float64{p, 1 - p}, "num_classes": 2}
	}
	return map[string]any{"id": "classify-" + s.newID(), "object": "list", "model": s.modelOf(body), "data": data}, nil
}

// similarity of two token lists in [0, 1].
func (s *Server) similarity(a, b []int) float64 {
	va, vb := s.vector(a), s.vector(b)
	dot := 0.0
	for i := range va {
		dot += va[i] * vb[i]
	}
	return (dot + 1) / 2
}

func (s *Server) rerank(body map[string]json.RawMessage) (any, error) {
	var query string
	var docs []string
	if json.Unmarshal(body["query"], &query) != nil || json.Unmarshal(body["documents"], &docs) != nil || len(docs) == 0 {
		return nil, badRequest("rerank needs a query string and a non-empty list of documents")
	}
	q := s.eng.tok.encode(query)
	out := make([]map[string]any, len(docs))
	for i, d := range docs {
		out[i] = map[string]any{"score": s.similarity(q, s.eng.tok.encode(d)), "document": d, "index": i}
	}
	for i := 1; i < len(out); i++ { // by score, best first (insertion sort: few documents)
		for j := i; j > 0 && out[j]["score"].(float64) > out[j-1]["score"].(float64); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, nil
}

func (s *Server) score(body map[string]json.RawMessage) (any, error) {
	var query string
	var items []string
	var labels []int
	if json.Unmarshal(body["query"], &query) != nil || json.Unmarshal(body["items"], &items) != nil {
		return nil, badRequest("score needs a query string and a list of items")
	}
	_ = json.Unmarshal(body["label_token_ids"], &labels)
	q := s.eng.tok.encode(query)
	scores := make([][]float64, len(items))
	for i, it := range items {
		p := s.similarity(q, s.eng.tok.encode(it))
		scores[i] = make([]float64, max(len(labels), 1))
		for k := range scores[i] {
			scores[i][k] = p / float64(len(scores[i]))
		}
	}
	return map[string]any{"scores": scores, "model": s.modelOf(body), "object": "scoring"}, nil
}

func (s *Server) tokenize(body map[string]json.RawMessage) (any, error) {
	lists, err := s.texts(body["prompt"], "prompt")
	if err != nil {
		return nil, err
	}
	if len(lists) == 1 && !isList(body["prompt"]) {
		return map[string]any{"tokens": lists[0], "count": len(lists[0]), "max_model_len": contextLength}, nil
	}
	counts := make([]int, len(lists))
	for i, l := range lists {
		counts[i] = len(l)
	}
	return map[string]any{"tokens": lists, "count": counts, "max_model_len": contextLength}, nil
}

// detokenize writes each id as "t<id>": the simulated tokenizer hashes
// words into ids and cannot invert them.
func (s *Server) detokenize(body map[string]json.RawMessage) (any, error) {
	var ids []int
	if json.Unmarshal(body["tokens"], &ids) != nil {
		return nil, badRequest("tokens must be a list of token ids")
	}
	words := make([]string, len(ids))
	for i, id := range ids {
		words[i] = fmt.Sprintf("t%d", id)
	}
	return map[string]any{"text": strings.Join(words, " ")}, nil
}

func (s *Server) countTokens(body map[string]json.RawMessage) (any, error) {
	data, _ := json.Marshal(body)
	var b anthropicBody
	if err := decodeBody(data, &b); err != nil {
		return nil, err
	}
	return map[string]any{"input_tokens": len(s.eng.tok.encode(b.prompt()))}, nil
}

// abortLog keeps the rids /abort_request named, most recent last (bounded).
type abortLog struct {
	mu   sync.Mutex // guards rids
	rids []string
}

const maxAbortLog = 1024

// Aborted returns the rids /abort_request named (the latest 1024); an
// abort without a rid (abort_all) is logged as "*".
func (s *Server) Aborted() []string {
	s.aborted.mu.Lock()
	defer s.aborted.mu.Unlock()
	return append([]string(nil), s.aborted.rids...)
}

func (s *Server) abortRequest(body map[string]json.RawMessage) (any, error) {
	rid := "*"
	_ = json.Unmarshal(body["rid"], &rid)
	l := &s.aborted
	l.mu.Lock()
	if len(l.rids) == maxAbortLog {
		l.rids = l.rids[1:]
	}
	l.rids = append(l.rids, rid)
	l.mu.Unlock()
	return map[string]any{}, nil
}

// storedResponses keeps the latest /v1/responses answers by id (bounded),
// as SGLang stores responses for retrieval.
type storedResponses struct {
	mu    sync.Mutex // guards byID and order
	byID  map[string]any
	order []string
}

const maxStoredResponses = 1024

func (s *Server) rememberResponse(id string, resp any) {
	st := &s.stored
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.byID == nil {
		st.byID = map[string]any{}
	}
	if _, ok := st.byID[id]; !ok {
		if len(st.order) == maxStoredResponses {
			delete(st.byID, st.order[0])
			st.order = st.order[1:]
		}
		st.order = append(st.order, id)
	}
	st.byID[id] = resp
}

func (s *Server) lookupResponse(id string, remove bool) (any, bool) {
	st := &s.stored
	st.mu.Lock()
	defer st.mu.Unlock()
	resp, ok := st.byID[id]
	if ok && remove {
		delete(st.byID, id)
	}
	return resp, ok
}

func (s *Server) getResponse(w http.ResponseWriter, r *http.Request) {
	if resp, ok := s.lookupResponse(r.PathValue("id"), false); ok {
		writeJSON(w, http.StatusOK, resp)
		return
	}
	writeError(w, http.StatusNotFound, "invalid_request_error", "Response with id '"+r.PathValue("id")+"' not found.")
}

func (s *Server) deleteResponse(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.lookupResponse(r.PathValue("id"), true); ok {
		writeJSON(w, http.StatusOK, map[string]any{"id": r.PathValue("id"), "object": "response", "deleted": true})
		return
	}
	writeError(w, http.StatusNotFound, "invalid_request_error", "Response with id '"+r.PathValue("id")+"' not found.")
}
