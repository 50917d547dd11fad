package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// MaxDPSize bounds the dp_size the router accepts from a server: each rank
// becomes a worker with its own state, so a hostile or broken answer must
// not make millions of them.
const MaxDPSize = 1024

// maxServerInfo bounds how much of a /get_server_info answer is read.
const maxServerInfo = 4 << 20

// FetchDPSize asks the SGLang server at base for its data-parallel size:
// GET {base}/get_server_info, whose JSON object carries "dp_size" (the
// original router learns it the same way). header is added to the request
// (the router's API key). An answer without a dp_size in [1, MaxDPSize] is
// an error that says why.
func FetchDPSize(ctx context.Context, client *http.Client, base string, header http.Header, timeout time.Duration) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/get_server_info", nil)
	if err != nil {
		return 0, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s/get_server_info answered %s", base, resp.Status)
	}
	var info struct {
		DPSize *int `json:"dp_size"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxServerInfo)).Decode(&info); err != nil {
		return 0, fmt.Errorf("%s/get_server_info: %w", base, err)
	}
	switch {
	case info.DPSize == nil:
		return 0, fmt.Errorf("%s/get_server_info has no dp_size; --dp-aware needs SGLang servers that report it", base)
	case *info.DPSize < 1 || *info.DPSize > MaxDPSize:
		return 0, fmt.Errorf("%s/get_server_info: dp_size %d is outside [1, %d]", base, *info.DPSize, MaxDPSize)
	}
	return *info.DPSize, nil
}

// byServer groups workers by base URL in first-seen order: the
// data-parallel ranks of one server share its health probe and load poll.
func byServer(ws []*Worker) [][]*Worker {
	var out [][]*Worker
	at := map[string]int{}
	for _, w := range ws {
		i, ok := at[w.base]
		if !ok {
			i = len(out)
			at[w.base] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], w)
	}
	return out
}
