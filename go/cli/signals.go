package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sgl-project/sglang-router-go/go/app"
)

// Run is the standalone binary: Main with the process's SIGINT and SIGTERM,
// caught from before the router listens, so a signal that arrives as soon
// as it is up stops it cleanly too. The first signal stops as Main's
// cancelled context does; a second one during a router's grace period cuts
// the requests in flight and exits with 128+signal (see stopRouter). Only
// the binary calls Run: the library never installs signal handlers (Python
// owns them there).
func Run(version string, args []string, stdout, stderr io.Writer) int {
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	go func() { // takes the first signal only; stopRouter waits for the next on sig
		select {
		case s := <-sig:
			cancel(signalled{s})
		case <-ctx.Done():
		}
	}()
	return dispatch(ctx, sig, version, args, stdout, stderr)
}

// signalled is the cause of Run's context when a signal ended it.
type signalled struct{ os.Signal }

func (s signalled) Error() string { return s.Signal.String() }

// hardStopWait bounds how long an aborted router may take to return from
// its shutdown: a stuck goroutine must not hold the exit.
const hardStopWait = 5 * time.Second

// stopRouter shuts the router down, letting in-flight requests finish
// within grace, and returns 0. A signal on again meanwhile closes every
// connection (app.App.Abort, as Python's second Ctrl-C) and returns
// 128+signal (130 for Ctrl-C, 143 for SIGTERM), the shell's code for a
// process ended by that signal.
func stopRouter(ctx context.Context, a *app.App, grace time.Duration, again <-chan os.Signal, stderr io.Writer) int {
	got := ""
	if s, ok := context.Cause(ctx).(signalled); ok {
		got = s.String() + " received; "
	}
	fmt.Fprintf(stderr, "sglang-router: %sstopping: waiting up to %s for %d in-flight requests (signal again to stop now)\n",
		got, grace, a.InFlight())
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = a.Shutdown(sctx)
	}()
	select {
	case <-done:
		return exitOK
	case s := <-again:
		fmt.Fprintf(stderr, "sglang-router: %s again: stopping now, cutting in-flight requests\n", s)
		a.Abort()
		cancel()
		select {
		case <-done:
		case <-time.After(hardStopWait):
		}
		return 128 + signalNumber(s)
	}
}

func signalNumber(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return int(n)
	}
	return int(syscall.SIGINT)
}
