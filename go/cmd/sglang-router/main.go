// Command sglang-router is the standalone router: the same flags as
// `python -m sglang_router.launch_router` and the same subcommands as the
// Python package's `sglang-router` (package cli has them all).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/sgl-project/sglang-router-go/go/cli"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(cli.Main(ctx, version, os.Args[1:], os.Stdout, os.Stderr))
}
