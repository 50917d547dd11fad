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

// forwardPD serves a generation request in PD mode: pick a
// prefill and a decode worker, add the bootstrap fields, send the same body
// to both at once, and deliver the decode answer. Attempts are classified
// and retried like regular ones (forward): when a leg fails before
// anything reached the client, another worker of that leg's pool is paired
// with the other leg's worker, under a new bootstrap room. Both workers'
// load counts last until the answer is delivered.
func (rt *Router) forwardPD(c *call, info reqbody.Info) int {
	if info.BatchSize > maxBatch {
		return writeError(c.w, fmt.Errorf("%w: batch of %d exceeds %d entries", ErrBadRequest, info.BatchSize, maxBatch))
	}
	cancel := rt.withDeadline(c)
	defer cancel()
	reply := rt.retryPD(c, info)
	rt.rec.RecordPDRequest(c.route(), time.Since(c.start))
	if _, o, _ := unpackReply(reply); o != outcomeNone && o != outcomeOK {
		rt.rec.RecordPDError(o.errorType())
	}
	return reply
}

// retryPD runs attempts until one answers the client or the class of a
// failure, the retry budget or the pools end the request.
func (rt *Router) retryPD(c *call, info reqbody.Info) int {
	pre, dec := rt.prefill.pick(c.model, info.Text, nil), rt.decode.pick(c.model, info.Text, nil)
	var tried []*worker.Worker
	var last failure
	for n := 0; ; n++ {
		if f, ok := rt.beforeAttempt(c, n); !ok {
			return rt.fail(c, f)
		}
		if pre == nil || dec == nil {
			if last.o == outcomeNone {
				rt.rec.RecordPDError("no_available_workers")
				return writeError(c.w, fmt.Errorf("%w: need a healthy prefill and a healthy decode worker", ErrNoWorker))
			}
			return rt.fail(c, last)
		}
		final := n >= rt.opts.Retry.MaxRetries
		reply, f := rt.attemptPD(c, info, pre, dec, final)
		if reply != 0 {
			return reply
		}
		last = f
		if final || !f.o.retryable() {
			return rt.fail(c, f)
		}
		// Replace the failed leg's worker; the other one did nothing wrong.
		tried = append(tried, f.wk)
		if f.wk == pre {
			pre = rt.prefill.pick(c.model, info.Text, tried)
		} else {
			dec = rt.decode.pick(c.model, info.Text, tried)
		}
	}
}

// attemptPD sends one pair under fresh bootstrap rooms. It returns the
// handler reply once the client got an answer (or left); else, with reply
// 0, the failure that may be retried. A leg's own error answer is passed
// on whole when it is not to be retried.
func (rt *Router) attemptPD(c *call, info reqbody.Info, pre, dec *worker.Worker, final bool) (reply int, f failure) {
	bodies, err := pdBodies(c.edit, info, pre, dec)
	if err != nil {
		return writeError(c.w, fmt.Errorf("%w: %v", ErrBadRequest, err)), failure{}
	}
	rt.recordPDPick(pre, dec)
	if c.rid != "" {
		rt.rids.put(c, pre, dec)
	}
	rt.acquire(pre)
	defer rt.release(pre)
	rt.acquire(dec)
	defer rt.release(dec)
	p := rt.sendPair(c, pre, dec, bodies, info.ReturnLogprob)
	defer p.close()
	if l := p.failed; l != nil {
		if l.err == nil && (final || !l.o.retryable()) { // an error status: its answer, unread
			return rt.deliver(c, l.wk, l.resp), failure{}
		}
		return 0, rt.failed(c, l.wk, l.o, l.cause())
	}
	rt.settle(c.id, pre, outcomeOK, nil)
	c.answer.pre = pre
	return rt.deliverPD(c, dec, p.dec.resp, p.pre.body, info.ReturnLogprob), failure{}
}

func (rt *Router) recordPDPick(pre, dec *worker.Worker) {
	rt.rec.RecordPolicyDecision(rt.prefill.Policy.Name(), pre.URL())
	rt.rec.RecordPolicyDecision(rt.decode.Policy.Name(), dec.URL())
	rt.rec.RecordPDPrefill(pre.URL())
	rt.rec.RecordPDDecode(dec.URL())
}

// leg is one request of a PD pair: its worker, the cancel of its own
// context, and what it got: the answer (its headers; for the prefill, read
// whole), or an error.
type leg struct {
	wk     *worker.Worker
	cancel context.CancelFunc
	resp   *http.Response
	body   []byte // the prefill's answer, kept to merge its logprobs
	err    error
	o      outcome // of the answer's status or the error
}

// cause is the leg's error, or its error status, for the log.
func (l *leg) cause() error {
	if l.err == nil && l.resp != nil {
		return statusError(l.resp.StatusCode)
	}
	return l.err
}

// pair is a PD attempt's two legs. failed is the first leg that did not
// end OK, if any; the other leg was cancelled when it failed.
type pair struct {
	pre, dec leg
	failed   *leg
}

// sendPair sends bodies[0] to the prefill, bodies[1] to the decode worker at once (the decode worker waits for
// the prefill's KV cache, so neither may wait for the other) and returns
// when the decode answered (its headers) and the prefill answered and its
// answer was read (kept when keep, to merge its logprobs), or when a leg
// failed. Then the other leg is cancelled at once: a decode would wait for
// a KV cache that never comes, a prefill would compute one nobody reads.
func (rt *Router) sendPair(c *call, pre, dec *worker.Worker, bodies [2][]byte, keep bool) *pair {
	p := &pair{pre: leg{wk: pre}, dec: leg{wk: dec}}
	extra := rt.extraHeaders(c)
	done := make(chan *leg, 2)
	for i, l := range []*leg{&p.pre, &p.dec} {
		body := bodies[i]
		ctx, cancel := context.WithCancel(c.ctx)
		l.cancel = cancel
		go func() {
			l.resp, l.err = rt.proxy.Send(ctx, http.MethodPost, l.wk.BaseURL()+c.path, c.r.Header, body, extra)
			if l.err == nil {
				l.wk.Answered()
			}
			l.o = classify(c.ctx, l.err, statusOf(l.resp))
			if l == &p.pre && l.o == outcomeOK {
				if l.body, l.err = readPrefill(l.resp, keep); l.err != nil {
					l.o = classifyErr(c.ctx, l.err)
				}
			}
			done <- l
		}()
	}
	for range 2 {
		if l := <-done; l.o != outcomeOK && p.failed == nil {
			p.failed = l
			p.other(l).cancel()
		}
	}
	return p
}

func (p *pair) other(l *leg) *leg {
	if l == &p.pre {
		return &p.dec
	}
	return &p.pre
}

// close cancels both legs and closes their answers (delivered or not).
func (p *pair) close() {
	for _, l := range []*leg{&p.pre, &p.dec} {
		l.cancel()
		if l.resp != nil {
			l.resp.Body.Close()
		}
	}
}

func statusOf(resp *http.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

// readPrefill reads the prefill worker's answer: kept (bounded) when its
// input logprobs are to be merged, drained otherwise.
func readPrefill(resp *http.Response, keep bool) ([]byte, error) {
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, maxPrefillBody)
	if !keep {
		_, err := io.Copy(io.Discard, body)
		return nil, err
	}
	return io.ReadAll(body)
}

// deliverPD writes the decode answer, merging the prefill's input logprobs
// into it when asked (logprob.go). A decode answer that breaks off ends
// like a regular one (see delivered).
func (rt *Router) deliverPD(c *call, dec *worker.Worker, resp *http.Response, prefill []byte, merge bool) int {
	if !merge || resp.StatusCode >= 300 {
		return rt.deliver(c, dec, resp)
	}
	lp := inputLogprobs(prefill)
	if proxy.IsEventStream(resp.Header) {
		return rt.delivered(c, dec, resp, mergeStream(c.w, resp, lp))
	}
	body, err := mergeBody(resp, lp)
	if err != nil { // nothing was written yet: the client gets a plain error
		return rt.fail(c, rt.failed(c, dec, classifyErr(c.ctx, err), err))
	}
	return rt.delivered(c, dec, resp, writeBody(c.w, resp, body))
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

// pdBodies are the bodies of a PD pair under fresh bootstrap rooms: the
// same for both legs, or under dp_aware each with its leg's own rank.
func pdBodies(e reqbody.Edit, info reqbody.Info, pre, dec *worker.Worker) ([2][]byte, error) {
	boot := &reqbody.Boot{Host: bootstrapHost(pre.BaseURL()), Port: pre.BootstrapPort(),
		Rooms: alignRooms(newRooms(info.BatchSize), pre), Batch: info.BatchSize > 0}
	p, err := e.Inject(boot, rankOf(pre))
	if err != nil || rankOf(dec) == rankOf(pre) {
		return [2][]byte{p, p}, err
	}
	d, err := e.Inject(boot, rankOf(dec))
	return [2][]byte{p, d}, err
}

// maxRoom is the largest bootstrap room newRooms makes.
const maxRoom = 1<<63 - 1

// alignRooms makes each room name pre's data-parallel rank when pre is one
// (dp_aware): room % dp_size == rank. A decode server finds the prefill
// rank that holds a request's KV cache as bootstrap_room % dp_size, and a
// prefill server without an explicit rank picks its rank the same way, so
// the room and the rank sent in data_parallel_rank must agree. Each leg
// gets its own rank in its body (pdBodies): SGLang's decode server runs its
// own ranks.
func alignRooms(rooms []uint64, pre *worker.Worker) []uint64 {
	rank, ok := pre.DPRank()
	n := uint64(pre.DPSize())
	if !ok || n == 0 {
		return rooms
	}
	for i, r := range rooms {
		a := r/n*n + uint64(rank)
		if a > maxRoom {
			a -= n
		}
		rooms[i] = a
	}
	return rooms
}
