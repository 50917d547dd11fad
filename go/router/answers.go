package router

import (
	"net/http"
	"sync"
	"unsafe"

	"github.com/sgl-project/sglang-router-go/go/answer"
	"github.com/sgl-project/sglang-router-go/go/policy"
	"github.com/sgl-project/sglang-router-go/go/proxy"
	"github.com/sgl-project/sglang-router-go/go/reqbody"
	"github.com/sgl-project/sglang-router-go/go/worker"
)

// Answer recording. The engine caches its own output, so once a worker
// answered, its cache holds the request's text continued by the answer:
// the next turn of a chat resends that answer followed by a short
// question. Matched only against the text earlier requests carried, such
// a turn falls under the cache threshold when the answer was long and is
// routed as a miss, away from the worker that holds the conversation. So
// the router reads each answer as it relays it (package answer) and, once
// the whole answer reached the client with a 2xx status, records the
// continued text (reqbody.Follow) in the prefix tree of the worker that
// wrote it: in PD mode in the prefill pool's tree for the prefill worker
// and the decode pool's for the decode worker (whichever policies record
// answers). Nothing is recorded for a client that left, a worker error or
// a stream that broke off, nor for answers longer than
// Options.MaxAnswerInsert.

// answerPlan is what a call needs to record its answer: set when the
// request's text continues by its answer (see planAnswer).
type answerPlan struct {
	follow reqbody.Follow
	format answer.Format
	text   string // the request's routing text; valid while the call's body is
	pre    *worker.Worker
}

// planAnswer notes in c how its answer continues info.Text, when answers
// are recorded at all and the request's route and body allow it.
func (rt *Router) planAnswer(c *call, s RouteSpec, info reqbody.Info) {
	if rt.opts.MaxAnswerInsert <= 0 || info.Follow == reqbody.FollowNone {
		return
	}
	if f := answer.FormatOf(s.Text); f != answer.None {
		c.answer = answerPlan{follow: info.Follow, format: f, text: info.Text}
	}
}

// answerTargets returns the policies that record the answer of c from
// wk: wk's pool's (for PD, the decode pool's) and, in PD mode, the prefill
// pool's for c's prefill worker.
func (rt *Router) answerTargets(c *call, wk *worker.Worker) (out [2]answerTarget, n int) {
	if c.answer.follow == reqbody.FollowNone {
		return out, 0
	}
	add := func(p *Pool, w *worker.Worker) {
		if p == nil || w == nil {
			return
		}
		if r, ok := p.policyFor(c.model).(policy.AnswerRecorder); ok {
			out[n] = answerTarget{r, w.URL()}
			n++
		}
	}
	if rt.PD() {
		add(rt.prefill, c.answer.pre)
		add(rt.decode, wk)
	} else {
		add(rt.regular, wk)
	}
	return out, n
}

type answerTarget struct {
	rec policy.AnswerRecorder
	url string
}

// tapAnswer sets d to read the answer of resp from wk for recording, and
// returns the function that records it once the delivery ended with err
// (nil if the client got all of it). Both are no-ops when nothing is to be
// recorded.
func (rt *Router) tapAnswer(c *call, wk *worker.Worker, resp *http.Response, d *proxy.Delivery) func(err error) {
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return noAnswer
	}
	targets, n := rt.answerTargets(c, wk)
	if n == 0 {
		return noAnswer
	}
	cp := answer.New(c.answer.format, proxy.IsEventStream(resp.Header), rt.opts.MaxAnswerInsert)
	d.Tap = cp.Write
	return rt.recordAnswer(c, cp, targets, n)
}

// minAnswerShare: an answer shorter than 1/minAnswerShare of the text it
// continues is not recorded. The text itself was recorded when the request
// was routed, so the next turn (text, answer, question) already matches
// this worker for all but a sliver of what it shares with this request;
// recording would walk and copy the whole text (400 KB for a long
// document) to add that sliver. Measured on bench-proxy's 400 KB prompts
// with two-byte answers: cache_aware cost 1.35x round_robin's CPU with
// them recorded.
const minAnswerShare = 16

// noAnswer is tapAnswer's function when nothing is recorded.
func noAnswer(error) {}

// recordAnswer returns the function that records cp's answer in targets[:n],
// or counts it skipped. Apart from tapAnswer, so that a request that
// records nothing does not allocate what the function keeps.
func (rt *Router) recordAnswer(c *call, cp *answer.Capture, targets [2]answerTarget, n int) func(err error) {
	return func(err error) {
		defer cp.Release()
		ans, ok := cp.Answer()
		if err != nil || !ok || len(ans)*minAnswerShare < len(c.answer.text) {
			rt.rec.RecordAnswer(false)
			return
		}
		buf := continued(c.answer, ans)
		text := unsafe.String(unsafe.SliceData(*buf), len(*buf))
		for _, t := range targets[:n] {
			t.rec.RecordAnswer(t.url, text) // keeps nothing of text (see AnswerRecorder)
		}
		releaseContinued(buf)
		rt.rec.RecordAnswer(true)
	}
}

// continuedPool holds the buffers of continued texts: the request's text
// is most of one, and a fresh copy per answer of a 400 KB prompt was
// garbage that, collected, cost more than the tree's work (the wire
// benchmark of 400 KB prompts under cache_aware: 600 instead of 355
// CPU-µs a request).
var continuedPool sync.Pool

// maxPooledContinued is the largest buffer kept for reuse: a rare huge
// prompt does not pin its copy.
const maxPooledContinued = 4 << 20

// continued is the request's text continued by ans, in a pooled buffer
// (ans belongs to the Capture, the text may alias the request body);
// hand it back with releaseContinued once the text was recorded.
func continued(p answerPlan, ans []byte) *[]byte {
	buf, _ := continuedPool.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	*buf = p.follow.AppendAnswer((*buf)[:0], p.text, ans)
	return buf
}

func releaseContinued(buf *[]byte) {
	if cap(*buf) <= maxPooledContinued {
		continuedPool.Put(buf)
	}
}
