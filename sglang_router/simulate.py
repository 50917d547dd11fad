"""Simulated SGLang servers, run by the Go library (go/sim).

They speak SGLang's HTTP API with a real prefix cache and a latency model,
so a router can be tried, tested and benchmarked without GPUs::

    python -m sglang_router.simulate --workers 4
    python -m sglang_router.simulate --pd 2 2        # prefill and decode servers

From Python::

    from sglang_router.simulate import Simulator
    with Simulator(workers=2, time_scale=0).serve_in_background() as sim:
        print(sim.urls, sim.stats())

Every keyword is a key of the simulator's JSON configuration (see
go/sim/config.go: workers, role, time_scale, cache_capacity_tokens,
fault_fail_rate, ...); Go validates them.
"""

import argparse
import json
import signal
import sys
import time
from typing import Any, Dict, List, Optional, Sequence

from sglang_router import _native


class Simulator:
    """A cluster of simulated servers of one role."""

    def __init__(self, **config: Any):
        self._config = {k: v for k, v in config.items() if v is not None}
        self._handle: Optional[int] = None
        self.urls: List[str] = []
        self.bootstrap_ports: List[int] = []

    def serve_in_background(self) -> "Simulator":
        if self._handle is not None:
            raise RuntimeError("simulator already running")
        result = _native.sim_start(self._config)
        self._handle = int(result["handle"])
        self.urls = list(result.get("urls", []))
        self.bootstrap_ports = list(result.get("bootstrap_ports", []))
        return self

    def stats(self) -> List[Dict[str, Any]]:
        """Each server's engine counters (prompt/cached tokens, requests, ...)."""
        if self._handle is None:
            return []
        return list(_native.call(self._handle, "stats").get("servers", []))

    def stop(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            _native.stop(handle, 1000)

    def __enter__(self) -> "Simulator":
        if self._handle is None:
            self.serve_in_background()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sglang_router.simulate",
                                description="Run simulated SGLang servers until Ctrl-C.")
    p.add_argument("--workers", type=int, default=2, help="regular servers to start")
    p.add_argument("--pd", type=int, nargs=2, metavar=("PREFILL", "DECODE"),
                   help="start PREFILL prefill and DECODE decode servers instead")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--base-port", type=int, default=0, help="first port (0: free ports)")
    p.add_argument("--time-scale", type=float, default=1.0,
                   help="multiplier of simulated durations (0: answer at once)")
    p.add_argument("--cache-capacity-tokens", type=int, default=None)
    p.add_argument("--config", type=json.loads, default={},
                   help="any further simulator settings as a JSON object")
    return p


def _clusters(args: argparse.Namespace) -> List[Simulator]:
    base = dict(args.config, host=args.host, time_scale=args.time_scale,
                cache_capacity_tokens=args.cache_capacity_tokens)
    if not args.pd:
        return [Simulator(**base, workers=args.workers, base_port=args.base_port)]
    prefill, decode = args.pd
    port = args.base_port
    return [Simulator(**base, role="prefill", workers=prefill, base_port=port),
            Simulator(**base, role="decode", workers=decode, base_port=port + prefill if port else 0)]


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)
    sims: List[Simulator] = []
    try:
        for sim in _clusters(args):
            sims.append(sim.serve_in_background())
            role = sim._config.get("role", "regular")
            for i, (url, boot) in enumerate(zip(sim.urls, sim.bootstrap_ports)):
                extra = f" (bootstrap port {boot})" if boot else ""
                print(f"simulated {role} server {i}: {url}{extra}", flush=True)
        signal.signal(signal.SIGTERM, _interrupt)
        while True:
            time.sleep(0.2)
    except KeyboardInterrupt:
        return 0
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        for sim in sims:
            sim.stop()


if __name__ == "__main__":
    sys.exit(main())
