// Package reqbody reads what the router needs from a client's JSON request
// body, and adds the PD bootstrap fields to it, without a full
// unmarshal/marshal round trip: the router forwards the original bytes, and
// bodies can be hundreds of kilobytes (100k-token prompts).
//
// One hand-written scanner validates the whole body exactly as strictly as
// encoding/json (RFC 8259 grammar, nesting limit 10000, invalid UTF-8 inside
// strings tolerated and decoded as U+FFFD) while looking only at top-level
// keys; values are skipped without allocating and only the strings that make
// up the routing text are decoded. Duplicate keys: the last one wins, as with
// encoding/json.
//
// All functions are pure and safe for concurrent use.
package reqbody

import "errors"

// Route says which generation endpoint a body was sent to; it decides which
// fields make up the routing text.
type Route uint8

const (
	Generate        Route = iota + 1 // POST /generate
	ChatCompletions                  // POST /v1/chat/completions
	Completions                      // POST /v1/completions
	Responses                        // POST /v1/responses (OpenAI Responses API)
	Messages                         // POST /v1/messages (Anthropic Messages API)
	Embeddings                       // POST /v1/embeddings
)

// Other is the Route of a body whose text is not read (load-aware
// routes: tokenize, rerank, ...): Parse validates it and reads the
// model, rid and stream flag only.
const Other Route = 0

// String returns the endpoint path of the route.
func (r Route) String() string {
	switch r {
	case Generate:
		return "/generate"
	case ChatCompletions:
		return "/v1/chat/completions"
	case Completions:
		return "/v1/completions"
	case Responses:
		return "/v1/responses"
	case Messages:
		return "/v1/messages"
	case Embeddings:
		return "/v1/embeddings"
	}
	return "unknown"
}

// Errors returned for bodies the router must answer with 400. Returned errors
// wrap one of them and carry a message fit for the client (what is wrong and
// at which byte offset).
var (
	ErrMalformed = errors.New("request body is not valid JSON")
	ErrNotObject = errors.New("request body is not a JSON object")
)

// Info is what the router reads from a body.
type Info struct {
	// Text is the routing text (see Route); empty unless Parse was
	// asked for it, or when the body has none.
	Text string
	// Stream is true when the top-level "stream" is the JSON literal true.
	Stream bool
	// ReturnLogprob is true when the top-level "return_logprob" is true
	// (PD mode merges the prefill's input logprobs then).
	ReturnLogprob bool
	// BatchSize is 0 for a single request, else the number of entries of a
	// batched request, which in PD mode get one bootstrap room each:
	// /generate with a "text" list (or, without "text", an "input_ids" list
	// of lists): its length; /v1/completions with a "prompt" list of strings
	// or of lists: its length, else "n" when > 1; /v1/chat/completions:
	// "n" when > 1. An empty list counts as no batch. "n" is read only when
	// it is an integer literal that fits in 32 bits: bounding it is the
	// caller's business.
	BatchSize int
	// Session is the request's session key, read whatever needText says:
	// SGLang's "session_params"."id" when it is a string, else the OpenAI
	// "user" when it is a string; "" when neither. Keys longer than
	// MaxSessionKey bytes are cut to it.
	Session string
	// Model is the top-level "model" when it is a string (it picks the
	// pool of workers serving that model), else "".
	Model string
	// RID is the top-level "rid" when it is a string (SGLang's request id,
	// which /abort_request names), else "".
	RID string
	// PreviousResponseID is the top-level "previous_response_id" when it is
	// a string (a Responses request continuing a stored response), else "".
	PreviousResponseID string
	// Follow says how Text continues when the answer to this request is
	// sent back as the next turn (see Follow); FollowNone unless Parse
	// was asked for the text.
	Follow Follow
}

// Parse validates body as a single JSON object (whitespace around it
// allowed, nothing else) and reads Info from its top-level keys; nested keys
// of the same names are ignored. Text is computed only when needText is set,
// so routers whose policy ignores text pay only for validation; it is read
// in the same pass as the validation, and never aliases body.
//
// Values of unexpected types (say "stream": "yes" or "text": 5) are treated
// as absent rather than rejected: the worker owns request validation. Text
// rules, per route:
//   - Generate: "text" if it is a string or a list; else "prompt" likewise;
//     else "input_ids" likewise; else "".
//   - Completions: "prompt" if it is a string or a list.
//   - ChatCompletions: if "messages" is a list, the "content" of each of
//     its objects in order: a string, or the "text" string of each part
//     whose "type" is "text" (or "input_text"/"output_text").
//   - Responses: "input" if it is a string, else if a list, the content
//     of its items as for chat messages.
//   - Messages: "system" (a string, or the text of its text blocks), then
//     "messages" as for chat.
//   - Embeddings: "input" if it is a string or a list.
//   - Other: "".
//
// A list contributes its strings (decoded) and numbers (as written, e.g.
// token ids), and those of its lists one level down; everything else in it
// is skipped. All contributions are joined with single spaces.
func Parse(route Route, body []byte, needText bool) (Info, error) {
	info, _, err := parse(route, body, scanOpts{}, needText)
	return info, err
}

// ParseEdit is Parse that also returns the Edit that sets the router's
// fields (PD bootstrap fields, the data-parallel rank) in this body without
// scanning it a second time.
func ParseEdit(route Route, body []byte, needText bool) (Info, Edit, error) {
	return parseEdit(route, body, scanOpts{}, needText)
}

// ParseEditShared is ParseEdit whose Text may alias body: a text that is
// one JSON string without escapes (the usual long prompt) is not copied.
// Text is then valid only as long as body is neither modified nor reused;
// the caller must not keep it longer, nor hand it to anything that does.
func ParseEditShared(route Route, body []byte, needText bool) (Info, Edit, error) {
	return parseEdit(route, body, scanOpts{share: true}, needText)
}

func parseEdit(route Route, body []byte, opts scanOpts, needText bool) (Info, Edit, error) {
	info, f, err := parse(route, body, opts, needText)
	if err != nil {
		return info, Edit{}, err
	}
	return info, Edit{body: body, open: f.open, last: f.last, has: f.present(bootstrapKeys | rankKeys)}, nil
}

func parse(route Route, body []byte, opts scanOpts, needText bool) (Info, fields, error) {
	opts.decode, opts.route = 1<<keyModel|1<<keyRID|1<<keyPrevResponse, route
	if needText {
		opts.decode |= textKeys(route)
	}
	f, err := scanTop(body, opts)
	if err != nil {
		return Info{}, f, err
	}
	info := Info{
		Stream:             f.isTrue(keyStream),
		ReturnLogprob:      f.isTrue(keyReturnLogprob),
		BatchSize:          batchSize(route, &f),
		Model:              f.str[keyModel],
		RID:                f.str[keyRID],
		PreviousResponseID: f.str[keyPrevResponse],
		Session:            sessionKey(&f),
	}
	if needText {
		info.Text = routingText(route, &f)
		info.Follow = follow(route, &f, &info)
	}
	return info, f, nil
}
