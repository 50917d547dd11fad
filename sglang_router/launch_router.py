"""``python -m sglang_router.launch_router``: the router's command line.

Python only parses arguments and maps them to ``Router`` keywords; the Go
library validates the configuration when the router starts (a ValueError
naming the field). The CLI's defaults differ from the ``Router`` class's:
port 30000 and policy cache_aware.
"""

import argparse
import dataclasses
import logging
import os
import sys
from typing import Any, Dict, List, Optional, Sequence, Tuple

from sglang_router.router import PolicyType, Router

logger = logging.getLogger("router")

POLICY_CHOICES = [p.value for p in PolicyType]
LOG_LEVELS = ["debug", "info", "warning", "error", "critical"]


def policy_from_str(policy_str: Optional[str]) -> Optional[PolicyType]:
    """'cache_aware' -> PolicyType.CacheAware (None stays None)."""
    if policy_str is None or isinstance(policy_str, PolicyType):
        return policy_str
    try:
        return PolicyType(policy_str)
    except ValueError:
        raise ValueError(
            f"Unknown policy: {policy_str}. Choose from {', '.join(POLICY_CHOICES)}"
        ) from None


@dataclasses.dataclass
class RouterArgs:
    """The CLI's view of the router configuration; field names follow the flags."""

    # Regular mode
    worker_urls: List[str] = dataclasses.field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 30000
    policy: str = "cache_aware"

    # PD disaggregation
    pd_disaggregation: bool = False
    prefill_urls: List[Tuple[str, Optional[int]]] = dataclasses.field(default_factory=list)
    decode_urls: List[str] = dataclasses.field(default_factory=list)
    prefill_policy: Optional[str] = None
    decode_policy: Optional[str] = None

    # Startup, health and cache-aware tuning
    worker_startup_timeout_secs: int = 300
    worker_startup_check_interval: int = 10
    cache_threshold: float = 0.5
    balance_abs_threshold: int = 32
    balance_rel_threshold: float = 1.0001
    eviction_interval: int = 60
    max_tree_size: int = 2**24
    max_tree_memory_mb: int = 256
    max_payload_size: int = 256 * 1024 * 1024

    # Logging
    verbose: bool = False
    log_dir: Optional[str] = None
    log_level: Optional[str] = "info"
    json_log: bool = False

    # Kubernetes service discovery
    service_discovery: bool = False
    selector: Dict[str, str] = dataclasses.field(default_factory=dict)
    service_discovery_port: int = 80
    service_discovery_namespace: Optional[str] = None
    prefill_selector: Dict[str, str] = dataclasses.field(default_factory=dict)
    decode_selector: Dict[str, str] = dataclasses.field(default_factory=dict)
    bootstrap_port_annotation: str = "sglang.ai/bootstrap-port"

    # Metrics
    prometheus_port: int = 29000
    prometheus_host: str = "127.0.0.1"

    # Requests
    request_timeout_secs: int = 600
    api_key: Optional[str] = None
    admin_api_key: Optional[str] = None
    client_api_keys: Optional[List[str]] = None
    request_id_headers: Optional[List[str]] = None
    cors_allowed_origins: Optional[List[str]] = None
    max_concurrent_requests: int = 0
    queue_size: int = 0
    queue_timeout_secs: int = 60
    shutdown_grace_period_secs: int = 180

    # Retries, circuit breaker, health checks
    retry_max_retries: int = 3
    retry_initial_backoff_ms: int = 50
    retry_max_backoff_ms: int = 5000
    disable_retries: bool = False
    cb_failure_threshold: int = 5
    cb_success_threshold: int = 2
    cb_timeout_duration_secs: int = 30
    disable_circuit_breaker: bool = False
    health_failure_threshold: int = 3
    health_success_threshold: int = 2
    health_check_timeout_secs: int = 5

    @staticmethod
    def add_cli_args(
        parser: argparse.ArgumentParser,
        use_router_prefix: bool = False,
        exclude_host_port: bool = False,
    ) -> None:
        """Add the router flags to `parser`.

        With use_router_prefix every flag is spelled --router-NAME (dest
        router_NAME), except --host, --port and --worker-urls, which
        exclude_host_port leaves out (launch_server owns them).
        """
        _add_cli_args(parser, "router-" if use_router_prefix else "", exclude_host_port)

    @classmethod
    def from_cli_args(cls, args: Any, use_router_prefix: bool = False) -> "RouterArgs":
        """Build RouterArgs from an argparse namespace or any object with the
        same attributes; a missing attribute takes the dataclass default.

        `prefill` is a list of [url] / [url, port_or_"none"] lists, `decode` a
        list of [url] lists, selectors are lists of "key=value" items.
        Raises ValueError on an invalid bootstrap port or selector item.
        """
        prefix = "router_" if use_router_prefix else ""
        unprefixed = {"worker_urls", "host", "port"}
        defaults = cls()
        values = {}
        for f in dataclasses.fields(cls):
            attr = f.name if f.name in unprefixed else prefix + f.name
            values[f.name] = getattr(args, attr, getattr(defaults, f.name))
        # CLI namespaces carry `prefill`/`decode`; other objects may carry the parsed lists.
        prefill = getattr(args, prefix + "prefill", None)
        decode = getattr(args, prefix + "decode", None)
        values["prefill_urls"] = _parse_prefill(values["prefill_urls"] if prefill is None else prefill)
        values["decode_urls"] = _parse_decode(values["decode_urls"] if decode is None else decode)
        for name in ("selector", "prefill_selector", "decode_selector"):
            values[name] = _parse_selector(values[name], name)
        if values["worker_urls"] is None:
            values["worker_urls"] = []
        return cls(**values)

    def router_kwargs(self) -> Dict[str, Any]:
        """The keyword arguments of Router(...) that this configuration means."""
        kw = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        kw["eviction_interval_secs"] = kw.pop("eviction_interval")
        if kw.pop("verbose"):
            kw["log_level"] = "debug"
        for name in ("policy", "prefill_policy", "decode_policy"):
            kw[name] = policy_from_str(kw[name])
        kw["prefill_urls"] = list(kw["prefill_urls"])
        return kw


class _PrefillAction(argparse.Action):
    """--prefill URL [BOOTSTRAP_PORT|none], repeatable: appends [url] or [url, port]."""

    def __call__(self, parser, namespace, values, option_string=None):
        if not 1 <= len(values) <= 2:
            parser.error(
                f"argument {option_string}: expected URL and an optional "
                f"BOOTSTRAP_PORT (a number or 'none'), got {len(values)} values"
            )
        items = list(getattr(namespace, self.dest, None) or [])
        items.append(list(values))
        setattr(namespace, self.dest, items)


def _add_cli_args(parser: argparse.ArgumentParser, prefix: str, exclude_host_port: bool) -> None:
    d = RouterArgs()
    dest_prefix = prefix.replace("-", "_")

    def flag(group, name: str, *aliases: str, **kw) -> None:
        kw["dest"] = dest_prefix + name
        if "default" not in kw and hasattr(d, name):
            kw["default"] = getattr(d, name)
        names = ["--" + prefix + n.replace("_", "-") for n in (name,) + aliases]
        group.add_argument(*names, **kw)

    g = parser.add_argument_group("Router")
    if not exclude_host_port:
        g.add_argument("--host", type=str, default=d.host, help="Host address to bind the router server")
        g.add_argument("--port", type=int, default=d.port, help="Port number to bind the router server")
        g.add_argument("--worker-urls", type=str, nargs="*", default=[],
                       help="Worker URLs (e.g. http://worker1:8000 http://worker2:8000)")
    flag(g, "policy", type=str, choices=POLICY_CHOICES,
         help="Load balancing policy (also the PD default for prefill and decode)")
    flag(g, "worker_startup_timeout_secs", type=int,
         help="Seconds to wait for at least one worker to become healthy")
    flag(g, "worker_startup_check_interval", type=int,
         help="Seconds between worker health checks")
    flag(g, "cache_threshold", type=float,
         help="cache_aware: minimum prefix match ratio (0.0-1.0) to route to the matched worker")
    flag(g, "balance_abs_threshold", type=int,
         help="cache_aware: load difference above which the least-loaded worker is picked")
    flag(g, "balance_rel_threshold", type=float,
         help="cache_aware: load ratio (>= 1.0) above which the least-loaded worker is picked")
    flag(g, "eviction_interval", "eviction_interval_secs", type=int,
         help="cache_aware: seconds between evictions of the prefix tree")
    flag(g, "max_tree_size", type=int, help="cache_aware: maximum characters per worker in the tree")
    flag(g, "max_tree_memory_mb", type=int,
         help="cache_aware: memory budget of the tree in MiB, node overhead included")
    flag(g, "max_payload_size", type=int, help="Maximum request body size in bytes")
    flag(g, "request_timeout_secs", type=int, help="Timeout of one request to a worker, in seconds")

    g = parser.add_argument_group("PD disaggregation")
    flag(g, "pd_disaggregation", action="store_true",
         help="Route each request to one prefill and one decode worker")
    flag(g, "prefill", nargs="+", action=_PrefillAction, default=None,
         metavar=("URL", "BOOTSTRAP_PORT"),
         help="Prefill worker URL and optional bootstrap port (a number or 'none'); repeatable")
    flag(g, "decode", nargs=1, action="append", default=None, metavar="URL",
         help="Decode worker URL; repeatable")
    flag(g, "prefill_policy", type=str, choices=POLICY_CHOICES,
         help="Policy for prefill workers (default: --policy)")
    flag(g, "decode_policy", type=str, choices=POLICY_CHOICES,
         help="Policy for decode workers (default: --policy)")

    g = parser.add_argument_group("Kubernetes service discovery")
    flag(g, "service_discovery", action="store_true", help="Discover workers from Kubernetes pods")
    flag(g, "selector", type=str, nargs="+", default=[], metavar="KEY=VALUE",
         help="Pod label selector for workers (key1=value1 key2=value2)")
    flag(g, "service_discovery_port", type=int, help="Port of discovered workers")
    flag(g, "service_discovery_namespace", type=str,
         help="Namespace to watch (default: all namespaces)")
    flag(g, "prefill_selector", type=str, nargs="+", default=[], metavar="KEY=VALUE",
         help="Pod label selector for prefill workers in PD mode")
    flag(g, "decode_selector", type=str, nargs="+", default=[], metavar="KEY=VALUE",
         help="Pod label selector for decode workers in PD mode")
    flag(g, "bootstrap_port_annotation", type=str,
         help="Pod annotation holding a prefill worker's bootstrap port")

    g = parser.add_argument_group("Logging and metrics")
    flag(g, "log_dir", type=str, help="Directory for daily log files (default: console only)")
    flag(g, "log_level", type=str, choices=LOG_LEVELS, help="Log level")
    flag(g, "verbose", action="store_true", help="Same as --log-level debug")
    flag(g, "json_log", action="store_true", help="Log JSON lines")
    flag(g, "prometheus_host", type=str, help="Host of the Prometheus /metrics listener")
    flag(g, "prometheus_port", type=int, help="Port of the Prometheus /metrics listener")

    g = parser.add_argument_group("Requests and reliability")
    flag(g, "api_key", type=str, help="Bearer token the router presents to workers (health checks, loads, requests without their own Authorization)")
    flag(g, "admin_api_key", type=str,
         help="Bearer key that /add_worker, /remove_worker, /flush_cache, /list_workers and "
         "/get_loads demand (default: $SGLANG_ROUTER_ADMIN_API_KEY; unset: open)")
    flag(g, "client_api_keys", type=str, nargs="+", metavar="KEY",
         help="Bearer keys clients must present on the request routes; never forwarded to "
         "workers (default: $SGLANG_ROUTER_CLIENT_API_KEYS, comma-separated; unset: open)")
    flag(g, "request_id_headers", type=str, nargs="+", metavar="HEADER",
         help="Headers that carry a client's request id (default: x-request-id and friends)")
    flag(g, "cors_allowed_origins", type=str, nargs="+", metavar="ORIGIN",
         help="Origins allowed by CORS (default: CORS off)")
    flag(g, "max_concurrent_requests", type=int, help="Concurrent request limit (0 = unlimited)")
    flag(g, "queue_size", type=int, help="Requests that may wait for a slot when at the limit")
    flag(g, "queue_timeout_secs", type=int, help="Seconds a queued request may wait")
    flag(g, "shutdown_grace_period_secs", type=int,
         help="Seconds in-flight requests get to finish on shutdown")
    flag(g, "retry_max_retries", type=int, help="Retries of a failed request on another worker")
    flag(g, "retry_initial_backoff_ms", type=int, help="First retry backoff, in milliseconds")
    flag(g, "retry_max_backoff_ms", type=int, help="Largest retry backoff, in milliseconds")
    flag(g, "disable_retries", action="store_true", help="Never retry a failed request")
    flag(g, "cb_failure_threshold", type=int, help="Failures that open a worker's circuit breaker")
    flag(g, "cb_success_threshold", type=int, help="Successes that close it again")
    flag(g, "cb_timeout_duration_secs", type=int, help="Seconds an open breaker waits before a trial")
    flag(g, "disable_circuit_breaker", action="store_true", help="Turn circuit breakers off")
    flag(g, "health_failure_threshold", type=int, help="Failed health checks that mark a worker unhealthy")
    flag(g, "health_success_threshold", type=int, help="Passed health checks that mark it healthy again")
    flag(g, "health_check_timeout_secs", type=int, help="Timeout of one health check, in seconds")


def _parse_prefill(items: Optional[Sequence]) -> List[Tuple[str, Optional[int]]]:
    """[[url], [url, "8001"], [url, "none"]] -> [(url, None), (url, 8001), (url, None)]."""
    result = []
    for item in items or []:
        if isinstance(item, str):
            item = [item]
        if not 1 <= len(item) <= 2:
            raise ValueError(f"--prefill takes URL [BOOTSTRAP_PORT], got {list(item)}")
        url, port = item[0], (item[1] if len(item) == 2 else None)
        result.append((url, _parse_bootstrap_port(port)))
    return result


def _parse_bootstrap_port(port: Any) -> Optional[int]:
    if port is None or isinstance(port, int):
        return port
    if str(port).strip().lower() == "none":
        return None
    try:
        return int(port)
    except ValueError:
        raise ValueError(f"Invalid bootstrap port: {port}. Must be a number or 'none'") from None


def _parse_decode(items: Optional[Sequence]) -> List[str]:
    """[[url], ...] (or [url, ...]) -> [url, ...]."""
    return [item if isinstance(item, str) else item[0] for item in items or []]


def _parse_selector(items: Any, name: str) -> Dict[str, str]:
    """["k=v", ...] -> {"k": "v"}; split at the first '='; an item without '=' is an error."""
    if not items:
        return {}
    if isinstance(items, dict):
        return dict(items)
    result = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            flag = "--" + name.replace("_", "-")
            raise ValueError(f"Invalid {flag} item {item!r}: expected key=value")
        result[key] = value
    return result


def _parser() -> argparse.ArgumentParser:
    invoked = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    parser = argparse.ArgumentParser(
        prog=invoked if invoked == "sglang-router" else "python -m sglang_router.launch_router",
        description="SGLang Router: routes requests across SGLang workers "
        "(regular or prefill/decode disaggregated).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    RouterArgs.add_cli_args(parser, use_router_prefix=False)
    return parser


def parse_router_args(args: Sequence[str]) -> RouterArgs:
    """Parse command-line arguments (without the program name) into RouterArgs.

    argparse errors exit with status 2; an invalid bootstrap port or selector
    item raises ValueError.
    """
    return RouterArgs.from_cli_args(_parser().parse_args(list(args)), use_router_prefix=False)


def launch_router(args: Any) -> Optional[Router]:
    """Build a Router from RouterArgs (or a CLI namespace) and block in start().

    Returns the stopped Router after Ctrl-C/SIGTERM; raises ValueError for an
    invalid configuration and RuntimeError when the router cannot start.
    """
    router_args = args if isinstance(args, RouterArgs) else RouterArgs.from_cli_args(args)
    router = Router(**router_args.router_kwargs())
    router.start()
    return router


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Console entry point: errors become one line on stderr, not a traceback."""
    prog = "launch_router"
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        launch_router(parse_router_args(sys.argv[1:] if argv is None else argv))
    except ValueError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        sys.exit(2)
    except (RuntimeError, ImportError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
