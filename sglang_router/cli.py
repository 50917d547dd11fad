"""The ``sglang-router`` console command (and ``python -m sglang_router``).

One command with the same subcommands as the standalone binary
(``bin/sglang-router``): the router's flags, ``launch`` (the router),
``server`` (SGLang servers plus the router), and ``sim``, ``demo``,
``bench``, ``bench-routing``, which run the binary's own Go code in this
process (go/cli through the C export sgl_cli_start), so they behave exactly
as the binary's. ``--help`` is the binary's help too.
"""

import os
import signal
import sys
from typing import List, Optional, Sequence

# Handled by the Go command (go/cli) in-process.
GO_COMMANDS = {"sim", "demo", "bench", "bench-routing", "-h", "--help", "help",
               "-V", "--version", "--print-spec", "--print-config"}

EXIT_INTERRUPTED = 130


def run_go(argv: Sequence[str]) -> int:
    """Run one command line of the Go `sglang-router` in this process, with
    its output on this process's stdout/stderr. Ctrl-C (or SIGTERM) stops
    it as it would the binary; a second one exits at once.

    Signals are noted by a handler and acted on by the wait loop, never
    raised as KeyboardInterrupt: a Ctrl-C that came while the command was
    starting (it may already have printed its address) would otherwise
    escape before the loop could turn it into a clean stop."""
    from sglang_router import _native

    sys.stdout.flush()
    sys.stderr.flush()
    signals: List[int] = []
    previous = {}
    if _main_thread():
        for s in (signal.SIGINT, signal.SIGTERM):
            previous[s] = signal.signal(s, lambda signum, frame: signals.append(signum))
    handle = None
    try:
        handle = _native.cli_start(list(argv))
        interrupted = False
        while True:
            code = _native.wait_exit(handle, 100)
            if code is not None:
                return code
            if len(signals) > 1:
                os._exit(EXIT_INTERRUPTED)  # second Ctrl-C: do not wait any longer
            if signals and not interrupted:
                interrupted = True
                _native.call(handle, "interrupt")
    finally:
        if handle is not None:
            try:
                _native.stop(handle, 0)  # releases the handle
            except RuntimeError:
                pass
        for s, h in previous.items():
            signal.signal(s, h)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def main(argv: Optional[List[str]] = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in GO_COMMANDS:
        sys.exit(run_go(argv))
    if argv and argv[0] == "server":
        from sglang_router import launch_server

        launch_server.main(argv[1:])
        return
    from sglang_router import launch_router

    if argv and argv[0] == "launch":
        launch_router.main(argv[1:], prog="sglang-router launch")
        return
    launch_router.main(argv, prog="sglang-router")


if __name__ == "__main__":
    main()
