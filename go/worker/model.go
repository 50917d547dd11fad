package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// MaxModelLen bounds a model name: it becomes a metrics label, a log field
// and a key of the router's per-model pools.
const MaxModelLen = 256

// maxModelBody bounds what is read of a worker's /v1/models or
// /get_model_info answer.
const maxModelBody = 1 << 20

// modelState is the model a worker serves: given by the operator, or
// learned from the worker when it joins.
type modelState struct {
	name     atomic.Pointer[string] // nil until known
	expected bool                   // set before the worker is shared: not routable until known
	stale    atomic.Bool            // learned before the worker went down: ask again
}

func (m *modelState) routable() bool { return !m.expected || m.name.Load() != nil }

// ExpectModel marks the worker as not routable until its model is known
// (SetModel). Call it before the worker is shared (like WithBreaker).
func (w *Worker) ExpectModel() *Worker {
	w.model.expected = true
	return w
}

// SetModel records the model the worker serves. Safe for concurrent use.
func (w *Worker) SetModel(name string) {
	w.model.name.Store(&name)
	w.model.stale.Store(false)
}

// MarkModelStale asks for the model of a worker that learns it to be
// learned again (it went down: it may come back serving another model).
// The known model stays until then. A model the operator gave stays as is.
func (w *Worker) MarkModelStale() {
	if w.model.expected {
		w.model.stale.Store(true)
	}
}

// ModelToLearn reports whether the worker's model should be asked for:
// never learned, or stale.
func (w *Worker) ModelToLearn() bool { return w.ModelPending() || w.model.stale.Load() }

// Model is the model the worker serves, or "" while it is not known.
func (w *Worker) Model() string {
	if p := w.model.name.Load(); p != nil {
		return *p
	}
	return ""
}

// ModelPending reports whether the worker waits for its model to be
// learned before it may be routed to.
func (w *Worker) ModelPending() bool { return !w.model.routable() }

// ErrNoModel: the worker did not say which model it serves.
var ErrNoModel = errors.New("worker did not name its model")

// CheckModelName refuses a model name that cannot be a pool key or label:
// empty, too long, or not printable UTF-8.
func CheckModelName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty model name", ErrInvalidSpec)
	case len(name) > MaxModelLen:
		return fmt.Errorf("%w: model name longer than %d bytes", ErrInvalidSpec, MaxModelLen)
	case !utf8.ValidString(name) || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Errorf("%w: model name %q is not printable text", ErrInvalidSpec, name)
	}
	return nil
}

// FetchModel asks the worker at url which model it serves: the first id of
// GET /v1/models (the name clients send as "model"), else the model_path
// of GET /get_model_info. Each call is bounded by timeout; header is added
// to both (the router's API key). The name is checked (CheckModelName).
func FetchModel(ctx context.Context, client *http.Client, url string, header http.Header, timeout time.Duration) (string, error) {
	var models struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	err1 := getJSON(ctx, client, url+"/v1/models", header, timeout, &models)
	if err1 == nil && len(models.Data) > 0 && models.Data[0].ID != "" {
		return models.Data[0].ID, CheckModelName(models.Data[0].ID)
	}
	var info struct {
		ModelPath string `json:"model_path"`
	}
	err2 := getJSON(ctx, client, url+"/get_model_info", header, timeout, &info)
	if err2 == nil && info.ModelPath != "" {
		return info.ModelPath, CheckModelName(info.ModelPath)
	}
	return "", fmt.Errorf("%w: /v1/models: %v; /get_model_info: %v", ErrNoModel, orNoName(err1), orNoName(err2))
}

func orNoName(err error) error {
	if err == nil {
		return errors.New("no model named")
	}
	return err
}

// getJSON decodes the JSON answer of GET url into v.
func getJSON(ctx context.Context, client *http.Client, url string, header http.Header, timeout time.Duration, v any) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("status %s", resp.Status)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, maxModelBody)).Decode(v)
}
