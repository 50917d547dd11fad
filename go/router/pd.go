package router

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/sgl-project/sglang-router-go/go/proxy"
	"github.com/sgl-project/sglang-router-go/go/reqbody"
	"github.com/sgl-project/sglang-router-go/go/worker"
)

// maxPrefillBody bounds what is read of a prefill answer (it is drained, or
// kept for its input logprobs).
const maxPrefillBody = 64 << 20

// maxBatch bounds the batch size (text list length or "n") of a PD request:
// each entry gets a bootstrap room.
const maxBatch = 1 << 16

// sent is the outcome of sending one request.
type sent struct {
	resp *http.Response
	err  error
}

// forwardPD serves a generation request in PD mode (SPEC section 5): pick a
// prefill and a decode worker, add the bootstrap fields, send the same body
// to both at once, surface a prefill failure (cancelling the decode), and
// deliver the decode answer. Both load counts last until it is delivered.
func (rt *Router) forwardPD(c *call, info reqbody.Info, boot reqbody.Bootstrap) int {
	pre, dec := rt.prefill.pick(info.Text, nil), rt.decode.pick(info.Text, nil)
	if pre == nil || dec == nil {
		rt.rec.RecordPDError("no_available_workers")
		return writeError(c.w, fmt.Errorf("%w: need a healthy prefill and a healthy decode worker", ErrNoWorker))
	}
	if info.BatchSize > maxBatch {
		return writeError(c.w, fmt.Errorf("%w: batch of %d exceeds %d entries", ErrBadRequest, info.BatchSize, maxBatch))
	}
	body, err := boot.Inject(bootstrapHost(pre.URL()), pre.BootstrapPort(), newRooms(info.BatchSize), info.BatchSize > 0)
	if err != nil {
		return writeError(c.w, fmt.Errorf("%w: %v", ErrBadRequest, err))
	}
	rt.rec.RecordPolicyDecision(rt.prefill.Policy.Name(), pre.URL())
	rt.rec.RecordPolicyDecision(rt.decode.Policy.Name(), dec.URL())
	rt.rec.RecordPDPrefill(pre.URL())
	rt.rec.RecordPDDecode(dec.URL())
	for _, w := range []*worker.Worker{pre, dec} {
		w.Acquire()
		defer w.Release()
	}
	status := rt.dispatchPD(c, info, pre, dec, body)
	rt.rec.RecordPDRequest(c.path, time.Since(c.start))
	return status
}

func (rt *Router) dispatchPD(c *call, info reqbody.Info, pre, dec *worker.Worker, body []byte) int {
	ctx, cancel := context.WithTimeout(c.r.Context(), rt.opts.RequestTimeout)
	defer cancel()
	extra := rt.extraHeaders(c)
	preCh, decCh := make(chan sent, 1), make(chan sent, 1)
	send := func(w *worker.Worker, ch chan<- sent) {
		resp, err := rt.proxy.Send(ctx, http.MethodPost, w.URL()+c.path, c.r.Header, body, extra)
		ch <- sent{resp, err}
	}
	go send(pre, preCh)
	go send(dec, decCh)

	p := <-preCh
	prefill, perr := rt.prefillAnswer(p, info.ReturnLogprob)
	if perr != nil {
		cancel() // the decode side would wait for a KV cache that never comes
		if d := <-decCh; d.resp != nil {
			d.resp.Body.Close()
		}
		return rt.pdFailed(c, pre, "prefill", perr, p.resp)
	}
	pre.RecordOutcome(true, time.Now())
	d := <-decCh
	if d.err != nil {
		return rt.pdFailed(c, dec, "decode", d.err, nil)
	}
	return rt.deliverPD(c, dec, d.resp, prefill, info.ReturnLogprob)
}

// prefillAnswer checks the prefill worker's answer and returns its body when
// logprobs must be merged (it is drained otherwise).
func (rt *Router) prefillAnswer(p sent, keep bool) ([]byte, error) {
	if p.err != nil {
		return nil, p.err
	}
	if p.resp.StatusCode >= 400 {
		return nil, fmt.Errorf("prefill worker answered %s", p.resp.Status)
	}
	defer p.resp.Body.Close()
	if !keep {
		_, err := io.Copy(io.Discard, p.resp.Body)
		return nil, err
	}
	return io.ReadAll(io.LimitReader(p.resp.Body, maxPrefillBody))
}

// pdFailed answers a failed PD request. A worker's own error answer is
// passed through as is; a transport failure becomes 502 (or 504).
func (rt *Router) pdFailed(c *call, w *worker.Worker, side string, err error, resp *http.Response) int {
	if c.r.Context().Err() != nil {
		if resp != nil {
			resp.Body.Close()
		}
		return statusClientGone // the client left: not the worker's fault
	}
	rt.workerFailed(c.id, w, err)
	rt.rec.RecordPDError(side + "_error")
	if side == "prefill" {
		rt.rec.RecordPDPrefillError(w.URL())
	} else {
		rt.rec.RecordPDDecodeError(w.URL())
	}
	if resp != nil && resp.StatusCode >= 400 {
		if werr := proxy.WriteResponse(c.w, resp, nil); werr != nil {
			return statusClientGone
		}
		return resp.StatusCode
	}
	return rt.fail(c, fmt.Errorf("%w: %s worker %s: %v", errWorkerFailure, side, w.URL(), err))
}

// deliverPD writes the decode answer, merging the prefill's input logprobs
// into it when asked.
func (rt *Router) deliverPD(c *call, dec *worker.Worker, resp *http.Response, prefill []byte, merge bool) int {
	if !merge || resp.StatusCode >= 400 {
		status := rt.deliver(c, dec, resp)
		if status == http.StatusOK || status == statusClientGone {
			return status
		}
		rt.rec.RecordPDDecodeError(dec.URL())
		return status
	}
	var err error
	if proxy.IsEventStream(resp.Header) {
		err = mergeStream(c.w, resp, inputLogprobs(prefill))
	} else {
		err = mergeBody(c.w, resp, inputLogprobs(prefill))
	}
	if err != nil {
		rt.rec.RecordPDStreamError(dec.URL())
		return statusClientGone
	}
	dec.RecordOutcome(true, time.Now())
	return resp.StatusCode
}

// bootstrapHost is the host a decode worker reaches the prefill worker's
// bootstrap server at: the prefill URL's host, IPv6 brackets removed.
func bootstrapHost(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// newRooms returns one fresh random room in [0, 2^63-1] per batch entry (one
// for a single request).
func newRooms(batch int) []uint64 {
	rooms := make([]uint64, max(1, batch))
	var b [8]byte
	for i := range rooms {
		_, _ = rand.Read(b[:])
		rooms[i] = binary.LittleEndian.Uint64(b[:]) >> 1
	}
	return rooms
}
