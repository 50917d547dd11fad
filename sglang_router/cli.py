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
    it as it would the binary; a second one exits at once."""
    from sglang_router import _native

    sys.stdout.flush()
    sys.stderr.flush()
    previous = signal.signal(signal.SIGTERM, _raise_interrupt) if _main_thread() else None
    handle = _native.cli_start(list(argv))
    interrupted = False
    try:
        while True:
            try:
                code = _native.wait_exit(handle, 100)
                if code is not None:
                    return code
            except KeyboardInterrupt:
                if interrupted:
                    os._exit(EXIT_INTERRUPTED)  # second Ctrl-C: do not wait any longer
                interrupted = True
                _native.call(handle, "interrupt")
    finally:
        try:
            _native.stop(handle, 0)  # releases the handle
        except RuntimeError:
            pass
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


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
