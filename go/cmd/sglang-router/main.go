// Command sglang-router is the standalone router: the same flags as
// `python -m sglang_router.launch_router`, built from the same code as the
// Python package's library.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sgl-project/sglang-router-go/go/app"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "-h", "--help":
			usage(stdout)
			return 0
		case "--print-flags":
			_ = json.NewEncoder(stdout).Encode(flagTable())
			return 0
		case "bench":
			return runBench(args[1:], stdout, stderr)
		case "sim":
			return runSim(args[1:], stdout, stderr)
		case "demo":
			return runDemo(args[1:], stdout, stderr)
		case "bench-routing":
			return runRouting(args[1:], stdout, stderr)
		}
	}
	cfg, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "sglang-router: error: %v\n", err)
		return 2
	}
	a, err := app.New(cfg, app.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "sglang-router: error: %v\n", err)
		return 2
	}
	// Signals are caught from before the router listens, so one that
	// arrives as soon as it is up stops it cleanly too.
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	if err := a.Start(); err != nil {
		fmt.Fprintf(stderr, "sglang-router: error: %v\n", err)
		return 1
	}
	return waitForEnd(a, time.Duration(cfg.ShutdownGracePeriodSecs)*time.Second, sig, stderr)
}

// waitForEnd blocks until SIGINT/SIGTERM (graceful stop) or a fatal error.
func waitForEnd(a *app.App, grace time.Duration, sig <-chan os.Signal, stderr io.Writer) int {
	select {
	case s := <-sig:
		fmt.Fprintf(stderr, "sglang-router: %s: stopping; in-flight requests may finish within %s (signal again to stop now)\n", s, grace)
		return stop(a, grace, sig, stderr)
	case <-a.Done():
		if err := a.Err(); err != nil {
			fmt.Fprintf(stderr, "sglang-router: error: %v\n", err)
			return 1
		}
		return 0
	}
}

// stop shuts the router down, letting in-flight requests finish within
// grace, and returns 0. A second SIGINT/SIGTERM meanwhile cuts them and
// returns 128+signal (130 for Ctrl-C, 143 for SIGTERM), the shell's code for
// a process ended by that signal, as Python's launch_router does on a
// second Ctrl-C.
func stop(a *app.App, grace time.Duration, sig <-chan os.Signal, stderr io.Writer) int {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = a.Shutdown(ctx)
	}()
	select {
	case <-done:
		return 0
	case s := <-sig:
		fmt.Fprintf(stderr, "sglang-router: %s again: stopping now, cutting in-flight requests\n", s)
		cancel() // Shutdown then closes every connection and ends at once
		select {
		case <-done:
		case <-time.After(5 * time.Second): // never let a stuck goroutine hold the exit
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

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: sglang-router [flags]   (the flags of python -m sglang_router.launch_router)")
	fmt.Fprintln(w, "       sglang-router sim [-workers N] [-role regular|prefill|decode] [-time-scale X] [-config JSON]")
	fmt.Fprintln(w, "       sglang-router demo [-workers N] [-policies a,b] [-out DIR]   (policies compared on simulated workers)")
	fmt.Fprintln(w, "       sglang-router bench-routing [-workloads a,b] [-policies a,b] [-out DIR]   (routing quality vs the oracle)")
	fmt.Fprintln(w, "       sglang-router bench [-concurrency N] [-duration D]   (router overhead, routed vs direct)")
	fmt.Fprintln(w, "       sglang-router --print-flags   (the flag table as JSON)")
	defaults := flagTable()
	for _, f := range flags {
		def := ""
		for _, d := range defaults {
			if d["key"] == f.key && f.key != "" {
				def = fmt.Sprintf(" (default %v)", d["default"])
			}
		}
		fmt.Fprintf(w, "  %-36s %s%s\n", f.names[0], f.help, def)
	}
}
