// Package cli is the `sglang-router` command: the router's flags and the
// subcommands (sim, demo, bench, bench-routing, launch). The standalone
// binary runs it with the process's signals; the Python package's
// `sglang-router` console script runs the same code in-process through the
// C export sgl_cli_start, so both commands behave the same.
package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/sgl-project/sglang-router-go/go/app"
	"github.com/sgl-project/sglang-router-go/go/config"
)

// Exit statuses: 2 is a usage or configuration error, as argparse's.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// Main runs one command line (without the program name) until it ends or
// ctx is cancelled (Ctrl-C): a router then stops gracefully, a simulator or
// benchmark at once. It returns the exit status. The library runs commands
// this way; the binary runs them with Run, which adds the second signal.
func Main(ctx context.Context, version string, args []string, stdout, stderr io.Writer) int {
	return dispatch(ctx, nil, version, args, stdout, stderr)
}

// dispatch is Main; after ctx ends, a signal on again (nil: never) cuts a
// router's graceful stop short (see stopRouter).
func dispatch(ctx context.Context, again <-chan os.Signal, version string, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "-h", "--help", "help":
			Usage(stdout)
			return exitOK
		case "-V", "--version":
			fmt.Fprintf(stdout, "sglang-router %s (Go)\n", version)
			return exitOK
		case "--print-spec":
			return printJSON(stdout, config.NewSpec())
		case "--print-config":
			return printConfig(args[1:], stdout, stderr)
		case "launch":
			return runRouter(ctx, again, args[1:], stderr)
		case "server":
			fmt.Fprintln(stderr, "sglang-router: error: `server` co-launches SGLang's Python servers and the router; "+
				"it comes with the Python package: pip install sglang-router, then `sglang-router server ...` "+
				"(or python -m sglang_router.launch_server)")
			return exitUsage
		case "sim":
			return runSim(ctx, args[1:], stdout, stderr)
		case "bench":
			return runBench(ctx, args[1:], stdout, stderr)
		case "demo":
			return runDemo(ctx, args[1:], stdout, stderr)
		case "bench-routing":
			return runRouting(ctx, args[1:], stdout, stderr)
		}
	}
	return runRouter(ctx, again, args, stderr)
}

// printConfig prints the effective configuration the flags give.
func printConfig(args []string, stdout, stderr io.Writer) int {
	cfg, err := config.ParseArgs(args)
	if err != nil {
		return usageError(stderr, err)
	}
	return printJSON(stdout, cfg)
}

func printJSON(w io.Writer, v any) int {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return exitFail
	}
	return exitOK
}

// runRouter serves until ctx ends (then stops gracefully, see stopRouter)
// or the router fails.
func runRouter(ctx context.Context, again <-chan os.Signal, args []string, stderr io.Writer) int {
	cfg, err := config.ParseArgs(args)
	if err != nil {
		return usageError(stderr, err)
	}
	a, err := app.New(cfg, app.Options{})
	if err != nil {
		return usageError(stderr, err)
	}
	if err := a.Start(); err != nil {
		return exitCode(stderr, "sglang-router", err)
	}
	select {
	case <-ctx.Done():
		return stopRouter(ctx, a, time.Duration(cfg.ShutdownGracePeriodSecs)*time.Second, again, stderr)
	case <-a.Done():
		return exitCode(stderr, "sglang-router", a.Err())
	}
}

func usageError(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "sglang-router: error: %v\n", err)
	return exitUsage
}
