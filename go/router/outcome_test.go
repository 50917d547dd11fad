package router

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/sgl-project/sglang-router-go/go/proxy"
)

func TestClassify(t *testing.T) {
	live := context.Background()
	expired, cancel := context.WithTimeout(live, -time.Second)
	defer cancel()
	left, leave := context.WithCancel(live)
	leave()
	stopping, stop := context.WithCancelCause(live)
	stop(ErrShutdown)
	underStopping, cancel2 := context.WithTimeout(stopping, time.Hour) // as a request's deadline under the server's base context
	defer cancel2()
	refused := fmt.Errorf("%w: dial tcp: connection refused", proxy.ErrUpstream)
	for _, tc := range []struct {
		name   string
		ctx    context.Context
		err    error
		status int
		want   outcome
	}{
		{"200", live, nil, 200, outcomeOK},
		{"304", live, nil, 304, outcomeOK},
		{"400 is the client's", live, nil, 400, outcomeRejected},
		{"404 is the client's", live, nil, 404, outcomeRejected},
		{"408 worker timed out", live, nil, 408, outcomeWorkerFailed},
		{"429 worker overloaded", live, nil, 429, outcomeWorkerFailed},
		{"500", live, nil, 500, outcomeWorkerFailed},
		{"503", live, nil, 503, outcomeWorkerFailed},
		{"501 would be the same anywhere", live, nil, 501, outcomeRejected},
		{"508 loop is never retried", live, nil, 508, outcomeRejected},
		{"connection refused", live, refused, 0, outcomeTransport},
		{"stream broke", live, io.ErrUnexpectedEOF, 200, outcomeTransport},
		{"client write failed", live, proxy.ErrClientGone, 200, outcomeClientGone},
		{"router deadline", expired, context.DeadlineExceeded, 0, outcomeDeadline},
		{"deadline mid-stream", expired, io.ErrUnexpectedEOF, 200, outcomeDeadline},
		{"client left", left, context.Canceled, 0, outcomeClientGone},
		{"client left, transport noticed first", left, refused, 0, outcomeClientGone},
		{"shutdown grace over", underStopping, context.Canceled, 0, outcomeDeadline},
		{"error status after the deadline is still the worker's answer", expired, nil, 503, outcomeWorkerFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := classify(tc.ctx, tc.err, tc.status); got != tc.want {
				t.Errorf("classify = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestOutcomeRules pins the decisions the issue demands of each class.
func TestOutcomeRules(t *testing.T) {
	for _, tc := range []struct {
		o              outcome
		charges, retry bool
		status         int // for a worker answer of 503 where one was kept
	}{
		{outcomeOK, false, false, 503},
		{outcomeRejected, false, false, 503},
		{outcomeWorkerFailed, true, true, 503},
		{outcomeTransport, true, true, http.StatusBadGateway},
		{outcomeDeadline, false, false, http.StatusGatewayTimeout},
		{outcomeClientGone, false, false, statusClientGone},
	} {
		if tc.o.chargesWorker() != tc.charges || tc.o.retryable() != tc.retry || tc.o.status(503) != tc.status {
			t.Errorf("class %d: charges %v retry %v status %d", tc.o, tc.o.chargesWorker(), tc.o.retryable(), tc.o.status(503))
		}
		if tc.o.chargesWorker() && tc.o.provesWorker() {
			t.Errorf("class %d both charges and proves the worker", tc.o)
		}
	}
	labels := map[string]outcome{}
	for o := outcomeRejected; o <= outcomeClientGone; o++ {
		l := o.errorType()
		if prev, dup := labels[l]; l == "" || dup {
			t.Errorf("class %d has label %q (also class %d)", o, l, prev)
		}
		labels[l] = o
	}
	if outcomeClientGone.errorType() == errorType(http.StatusBadRequest) {
		t.Error("a client that left must not be counted as an invalid request")
	}
}

func TestReplyPacksStatusClassAndCut(t *testing.T) {
	for o := outcomeNone; o <= outcomeClientGone; o++ {
		for _, status := range []int{200, 400, 499, 503, 508} {
			if s, got, cut := unpackReply(o.reply(status)); s != status || got != o || cut {
				t.Errorf("reply(%d, %d) unpacks to %d %d %v", o, status, s, got, cut)
			}
		}
		if s, got, cut := unpackReply(o.cutReply()); s != o.status(0) || got != o || !cut {
			t.Errorf("cutReply(%d) unpacks to %d %d %v", o, s, got, cut)
		}
	}
	if s, o, cut := unpackReply(404); s != 404 || o != outcomeNone || cut {
		t.Errorf("a plain status unpacks to %d %d %v", s, o, cut)
	}
}

func TestErrorLabel(t *testing.T) {
	for _, tc := range []struct {
		status int
		o      outcome
		want   string
	}{
		{200, outcomeNone, ""},
		{200, outcomeOK, ""},
		{400, outcomeNone, "invalid_request_error"},
		{503, outcomeNone, "no_available_workers"},
		{503, outcomeWorkerFailed, "worker_error"}, // a worker's own 503, passed on
		{499, outcomeNone, "client_disconnected"},  // left while queued
		{499, outcomeClientGone, "client_disconnected"},
		{504, outcomeDeadline, "timeout"},
	} {
		if got := errorLabel(tc.status, tc.o); got != tc.want {
			t.Errorf("errorLabel(%d, %d) = %q, want %q", tc.status, tc.o, got, tc.want)
		}
	}
	if statusFor(fmt.Errorf("waiting for a slot: %w", context.Canceled)) != statusClientGone {
		t.Error("a request whose client left while it waited must map to 499")
	}
}
