"""``python -m sglang_router.launch_server``: N SGLang servers plus a router, one command.

Every flag that is not a router flag goes to SGLang (``sglang.launch_server``).
``--dp-size N`` (SGLang's own flag) servers start on free ports from
``--router-dp-worker-base-port`` (31000), each in its own process group; the
router then serves on SGLang's ``--host``/``--port`` with the ``--router-*``
flags. Ctrl-C or SIGTERM stops the router and every server (SIGTERM, then
SIGKILL after 5 s).

Workers are started by a *launcher*: a function (base_port, argv, launched)
that appends (url, process) to `launched` as each one starts (so an interrupt
mid-way still stops them) and returns the parsed server flags (host, port).
With ``--simulate`` the workers are the project's simulated SGLang servers
(go/sim, in-process) instead, for a machine without GPUs or without sglang:
``python -m sglang_router.launch_server --simulate --dp-size 4 --port 30000``.
"""

import argparse
import importlib.util
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from sglang_router import _logging
from sglang_router.router import Router
from sglang_router.router_args import RouterArgs

logger = logging.getLogger("sglang_router.launch_server")

DEFAULT_BASE_PORT = 31000
KILL_AFTER_SECS = 5.0
SGLANG_MISSING = (
    "launch_server starts SGLang servers, but the `sglang` package is not installed.\n"
    'Install it with: pip install "sglang[all]"  (see https://docs.sglang.ai/start/install.html)\n'
    "To run only the router against servers you already have, use: "
    "python -m sglang_router.launch_router --worker-urls URL..."
)

# (url, what runs it): a Popen (its process group is stopped), or any object
# with a stop() method (e.g. a handle on in-process simulated workers).
Launched = List[Tuple[str, Any]]


def router_parser(add_help: bool = False) -> argparse.ArgumentParser:
    """The launcher's own flags: --router-* plus --router-dp-worker-base-port."""
    parser = argparse.ArgumentParser(add_help=add_help, allow_abbrev=False)
    RouterArgs.add_cli_args(parser, use_router_prefix=True, exclude_host_port=True)
    parser.add_argument(
        "--router-dp-worker-base-port",
        type=int,
        default=DEFAULT_BASE_PORT,
        help="First port tried for the data-parallel SGLang servers",
    )
    parser.add_argument(
        "--simulate",
        action="store_true",
        help="Start simulated SGLang servers (no GPU or sglang needed) instead of real ones",
    )
    return parser


def find_free_ports(base: int, count: int, host: str = "127.0.0.1", skip: Sequence[int] = ()) -> List[int]:
    """`count` ports from `base` upward that can be bound right now, other
    than those in `skip` (the router's own port: it is bound only after the
    servers start, so it still looks free)."""
    ports: List[int] = []
    port = base
    while len(ports) < count:
        if port > 65535:
            raise RuntimeError(f"no {count} free ports at or above {base}")
        if port in skip:
            port += 1
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, port))
                ports.append(port)
            except OSError:
                pass
        port += 1
    return ports


def _router_ports(server: argparse.Namespace) -> List[int]:
    """The port the router will listen on (SGLang's --port), which the
    servers must not take."""
    port = getattr(server, "port", None)
    return [int(port)] if port else []


def _client_host(host: str) -> str:
    """A host the router can reach a server bound to `host` on."""
    if host in ("0.0.0.0", "", None):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def _sglang_server_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse SGLang's flags with SGLang's own parser (host, port, dp_size, tp_size)."""
    from sglang.srt.server_args import ServerArgs  # imported only when sglang is present

    parser = argparse.ArgumentParser(prog="launch_server")
    ServerArgs.add_cli_args(parser)
    return parser.parse_args(list(argv))


def launch_sglang(base_port: int, argv: Sequence[str], launched: Launched) -> argparse.Namespace:
    """Start dp_size `python -m sglang.launch_server` processes, each with dp size 1,
    its own port and GPUs, and its own process group."""
    if importlib.util.find_spec("sglang") is None:
        raise SystemExit(SGLANG_MISSING)
    server = _sglang_server_args(argv)
    dp = int(getattr(server, "dp_size", 1) or 1)
    tp = int(getattr(server, "tp_size", 1) or 1)
    host = getattr(server, "host", "127.0.0.1")
    for i, port in enumerate(find_free_ports(base_port, dp, skip=_router_ports(server))):
        # argparse keeps the last occurrence, so these override the user's values.
        cmd = [sys.executable, "-m", "sglang.launch_server", *argv,
               "--port", str(port), "--dp-size", "1", "--base-gpu-id", str(i * tp)]
        proc = subprocess.Popen(cmd, start_new_session=True)
        launched.append((f"http://{_client_host(host)}:{port}", proc))
        logger.info("started SGLang server %d/%d on port %d (pid %d)", i + 1, dp, port, proc.pid)
    return server


def sim_parser() -> argparse.ArgumentParser:
    """The SGLang flags the simulated servers use; every other SGLang flag
    of the command they stand in for is accepted and has no effect."""
    parser = argparse.ArgumentParser(prog="launch_server --simulate", allow_abbrev=False)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=30000)
    parser.add_argument("--data-parallel-size", "--dp-size", "--dp", dest="dp_size", type=int, default=1)
    parser.add_argument("--enable-dp-attention", action="store_true",
                        help="one simulated server with --dp-size data-parallel ranks (route with --router-dp-aware)")
    parser.add_argument("--model-path", "--model", dest="model_path", default=None,
                        help="reported as the model's name (as --served-model-name)")
    parser.add_argument("--served-model-name", default=None)
    parser.add_argument("--time-scale", type=float, default=1.0,
                        help="simulated durations multiplier (0: answer at once)")
    return parser


def launch_sim(base_port: int, argv: Sequence[str], launched: Launched) -> argparse.Namespace:
    """Start --dp-size simulated servers in this process (free ports from
    base_port), or with --enable-dp-attention one server of --dp-size ranks. The SGLang flags of the real command are accepted: those the
    simulator has no use for (--tp-size, --mem-fraction-static, ...) are
    listed in one log line and ignored."""
    from sglang_router.simulate import Simulator

    server, ignored = sim_parser().parse_known_args(list(argv))
    if ignored:
        logger.info("simulated servers ignore these SGLang arguments: %s", " ".join(ignored))
    model = server.served_model_name or server.model_path
    # With data-parallel attention SGLang runs one server whose ranks share
    # a port; without it, --dp-size separate servers (as launch_sglang starts).
    servers, ranks = (1, server.dp_size) if server.enable_dp_attention else (server.dp_size, 1)
    sim = Simulator(workers=servers, dp_size=ranks, host=_client_host(server.host), time_scale=server.time_scale,
                    model=model, base_port=find_free_ports(base_port, 1, skip=_router_ports(server))[0] if servers == 1 else 0)
    sim.serve_in_background()
    for url in sim.urls:
        launched.append((url, sim))
        logger.info("started simulated SGLang server %s", url)
    return server


# Worker launchers by name.
LAUNCHERS: Dict[str, Callable[[int, Sequence[str], Launched], argparse.Namespace]] = {
    "sglang": launch_sglang,
    "sim": launch_sim,
}


def stop_processes(procs: Sequence[subprocess.Popen], kill_after: float = KILL_AFTER_SECS) -> None:
    """SIGTERM each process group, SIGKILL whatever is left after `kill_after` seconds."""
    for p in procs:
        _signal_group(p, signal.SIGTERM)
    deadline = time.monotonic() + kill_after
    for p in procs:
        try:
            p.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(p, signal.SIGKILL)
            p.wait()


def stop_launched(launched: Launched) -> None:
    """Stop every launched worker: processes by group, anything else by stop()."""
    stop_processes([p for _, p in launched if isinstance(p, subprocess.Popen)])
    for _, other in launched:
        if not isinstance(other, subprocess.Popen):
            other.stop()


def _signal_group(p: subprocess.Popen, sig: int) -> None:
    if p.poll() is not None:
        return
    try:
        os.killpg(p.pid, sig)  # the server and every child it spawned
    except (ProcessLookupError, PermissionError):
        pass


def main(argv: Optional[Sequence[str]] = None, launcher: str = "sglang") -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    _logging.configure(json_lines="--router-json-log" in argv)
    if "-h" in argv or "--help" in argv:
        _print_help()
        return
    router_ns, server_argv = router_parser().parse_known_args(argv)
    try:
        router_args = RouterArgs.from_cli_args(router_ns, use_router_prefix=True)
    except ValueError as e:
        sys.exit(f"launch_server: error: {e}")
    launched: Launched = []
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)  # servers must not outlive us
    try:
        if router_ns.simulate:
            launcher = "sim"
        server = LAUNCHERS[launcher](router_ns.router_dp_worker_base_port, server_argv, launched)
        router_args.host = getattr(server, "host", router_args.host)
        router_args.port = getattr(server, "port", router_args.port)
        router_args.worker_urls = [url for url, _ in launched]
        router = Router(**router_args.router_kwargs())
        _watch_servers(launched, router)
        router.start()
        procs = [p for _, p in launched if isinstance(p, subprocess.Popen)]
        if procs and all(p.poll() is not None for p in procs):
            print("launch_server: error: every server exited; router stopped", file=sys.stderr)
            sys.exit(1)
    except KeyboardInterrupt:
        pass
    except (ValueError, RuntimeError) as e:
        print(f"launch_server: error: {e}", file=sys.stderr)
        sys.exit(1)
    finally:
        stop_launched(launched)
        signal.signal(signal.SIGTERM, previous)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt()


def _watch_servers(launched: Launched, router: Router, period: float = 1.0) -> None:
    """Log each server that exits; stop the router when none is left."""

    def watch() -> None:
        reported = set()
        while True:
            for url, p in launched:
                if isinstance(p, subprocess.Popen) and p.poll() is not None and url not in reported:
                    reported.add(url)
                    if p.returncode == 0:
                        logger.info("server %s exited cleanly", url)
                    else:
                        logger.error("server %s exited with status %s", url, p.returncode)
            if reported and len(reported) == len(launched) and router.running:
                router.stop(grace_secs=0)
                return
            time.sleep(period)

    threading.Thread(target=watch, name="server-watch", daemon=True).start()


def _print_help() -> None:
    router_parser(add_help=True).print_help()
    print("\nEvery other flag is passed to SGLang (python -m sglang.launch_server --help).")
    if importlib.util.find_spec("sglang") is None:
        print("\nNote: " + SGLANG_MISSING)


if __name__ == "__main__":
    main()
