"""``python -m sglang_router.launch_router``: the router's command line.

Python only parses arguments (the flags come from Go's flag table) and maps
them to ``Router`` keywords; the Go library validates the configuration when
the router starts (a ValueError naming the field). The CLI's defaults differ
from the ``Router`` class's: port 30000 and policy cache_aware.
"""

import argparse
import logging
import os
import sys
from typing import Any, Optional, Sequence

from sglang_router import _logging
from sglang_router.router import PolicyType, Router, policy_from_str
from sglang_router.router_args import RouterArgs

__all__ = ["RouterArgs", "launch_router", "parse_router_args", "policy_from_str", "main", "PolicyType"]

logger = logging.getLogger("sglang_router.launch_router")

EXAMPLES = """examples:
  # two workers, cache-aware routing, on every interface
  python -m sglang_router.launch_router --worker-urls http://worker1:8000 http://worker2:8000 --host 0.0.0.0

  # prefill/decode disaggregation (bootstrap port optional, 'none' allowed)
  python -m sglang_router.launch_router --pd-disaggregation \\
      --prefill http://prefill1:8000 8998 --prefill http://prefill2:8000 none \\
      --decode http://decode1:8000 --decode http://decode2:8000

  # Kubernetes pods labelled app=sglang-worker
  python -m sglang_router.launch_router --service-discovery --selector app=sglang-worker

  # simulated workers for a try without GPUs (see `sglang-router sim --help`)
  sglang-router sim -workers 2
"""


def _parser(prog: Optional[str] = None) -> argparse.ArgumentParser:
    invoked = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    parser = argparse.ArgumentParser(
        prog=prog or (invoked if invoked == "sglang-router" else "python -m sglang_router.launch_router"),
        description="SGLang Router: routes requests across SGLang workers "
        "(regular or prefill/decode disaggregated).",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    RouterArgs.add_cli_args(parser, use_router_prefix=False)
    return parser


def parse_router_args(args: Sequence[str], prog: Optional[str] = None) -> RouterArgs:
    """Parse command-line arguments (without the program name) into RouterArgs.

    argparse errors exit with status 2; an invalid bootstrap port or selector
    item raises ValueError.
    """
    return RouterArgs.from_cli_args(_parser(prog).parse_args(list(args)), use_router_prefix=False)


def launch_router(args: Any) -> Optional[Router]:
    """Build a Router from RouterArgs (or a CLI namespace) and block in start().

    Returns the stopped Router after Ctrl-C/SIGTERM; raises ValueError for an
    invalid configuration and RuntimeError when the router cannot start.
    """
    router_args = args if isinstance(args, RouterArgs) else RouterArgs.from_cli_args(args)
    router_args._validate_router_args()
    router = Router.from_args(router_args)
    router.start()
    return router


def main(argv: Optional[Sequence[str]] = None, prog: Optional[str] = None) -> None:
    """Console entry point: errors become one line on stderr, not a traceback."""
    name = prog or "launch_router"
    argv = sys.argv[1:] if argv is None else argv
    try:
        router_args = parse_router_args(argv, prog)
        _logging.configure(json_lines=router_args.json_log)
        launch_router(router_args)
    except ValueError as e:
        print(f"{name}: error: {e}", file=sys.stderr)
        sys.exit(2)
    except (RuntimeError, ImportError) as e:
        print(f"{name}: error: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
