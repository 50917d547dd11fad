// Command sglang-router is the standalone router: the same flags as
// `python -m sglang_router.launch_router` and the same subcommands as the
// Python package's `sglang-router` (package cli has them all, and the
// handling of SIGINT and SIGTERM).
package main

import (
	"os"

	"github.com/sgl-project/sglang-router-go/go/cli"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(cli.Run(version, os.Args[1:], os.Stdout, os.Stderr))
}
