"""The Python ``Router``: a thin handle on a router running inside the Go library.

The constructor only maps Python types to the JSON configuration (keys = the
keyword names, see go/config/config.go); Go validates it when the router
starts, so an invalid value raises ``ValueError`` from :meth:`Router.start` or
:meth:`Router.serve_in_background`, with a message naming the field.
"""

import enum
import logging
import signal
import threading
import time
from typing import Any, Dict, List, Optional, Tuple, Union

from sglang_router import _native

logger = logging.getLogger("sglang_router")

# How long one sgl_wait call blocks; Ctrl-C is noticed within this time.
WAIT_SLICE_MS = 100


class PolicyType(enum.Enum):
    """Routing policies; each value is the name the Go library knows."""

    Random = "random"
    RoundRobin = "round_robin"
    CacheAware = "cache_aware"
    PowerOfTwo = "power_of_two"


class _Terminated(BaseException):
    """Raised by the temporary SIGTERM handler to unwind Router.start()."""


PolicyLike = Union[PolicyType, str, None]


def _policy_name(value: PolicyLike) -> Optional[str]:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, PolicyType):
        return value.value
    raise TypeError(f"policy must be a PolicyType or a policy name, not {type(value).__name__}")


def _str_list(name: str, value: Any) -> Optional[List[str]]:
    if value is None:
        return None
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a list of strings, not a single string")
    return list(value)


def _prefill_pairs(value: Any) -> Optional[List[list]]:
    """[(url, port|None)] or [url] -> [[url, port|None]] (Go checks the port)."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)):
        raise TypeError("prefill_urls must be a list of (url, bootstrap_port) pairs")
    pairs = []
    for entry in value:
        if isinstance(entry, str):
            pairs.append([entry, None])
        else:
            pairs.append(list(entry))
    return pairs


def _selector(name: str, value: Any) -> Optional[Dict[str, str]]:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise TypeError(f"{name} must be a dict of label key -> value")
    return {str(k): str(v) for k, v in value.items()}


# Keyword -> type mapping applied before the configuration crosses to Go.
# Keywords not listed here cross unchanged.
_MAPPERS = {
    "policy": _policy_name,
    "prefill_policy": _policy_name,
    "decode_policy": _policy_name,
    "worker_urls": lambda v: _str_list("worker_urls", v),
    "decode_urls": lambda v: _str_list("decode_urls", v),
    "request_id_headers": lambda v: _str_list("request_id_headers", v),
    "cors_allowed_origins": lambda v: _str_list("cors_allowed_origins", v),
    "client_api_keys": lambda v: _str_list("client_api_keys", v),
    "prefill_urls": _prefill_pairs,
    "selector": lambda v: _selector("selector", v),
    "prefill_selector": lambda v: _selector("prefill_selector", v),
    "decode_selector": lambda v: _selector("decode_selector", v),
}


def build_config(kwargs: Dict[str, Any]) -> Dict[str, Any]:
    """The JSON configuration for sgl_router_start: one key per Router keyword.

    None crosses as null, which Go reads as "use the default".
    """
    return {k: _MAPPERS.get(k, lambda v: v)(v) for k, v in kwargs.items()}


class Router:
    """An SGLang router. ``start()`` blocks; ``serve_in_background()`` does not.

    Keyword defaults are those of the original ``sglang_router.Router`` (the
    CLI has its own: port 30000, cache_aware). Several routers can run in one
    process, and a stopped router can be started again.
    """

    def __init__(
        self,
        worker_urls: List[str],
        policy: PolicyLike = PolicyType.RoundRobin,
        host: str = "127.0.0.1",
        port: int = 3001,
        worker_startup_timeout_secs: int = 300,
        worker_startup_check_interval: int = 10,
        cache_threshold: float = 0.50,
        balance_abs_threshold: int = 32,
        balance_rel_threshold: float = 1.0001,
        eviction_interval_secs: int = 60,
        max_tree_size: int = 2**24,
        max_payload_size: int = 256 * 1024 * 1024,
        log_dir: Optional[str] = None,
        log_level: Optional[str] = None,
        service_discovery: bool = False,
        selector: Optional[Dict[str, str]] = None,
        service_discovery_port: int = 80,
        service_discovery_namespace: Optional[str] = None,
        prefill_selector: Optional[Dict[str, str]] = None,
        decode_selector: Optional[Dict[str, str]] = None,
        prometheus_port: Optional[int] = None,
        prometheus_host: Optional[str] = None,
        pd_disaggregation: bool = False,
        prefill_urls: Optional[List[Tuple[str, Optional[int]]]] = None,
        decode_urls: Optional[List[str]] = None,
        request_timeout_secs: int = 600,
        bootstrap_port_annotation: str = "sglang.ai/bootstrap-port",
        *,
        prefill_policy: PolicyLike = None,
        decode_policy: PolicyLike = None,
        api_key: Optional[str] = None,
        admin_api_key: Optional[str] = None,
        client_api_keys: Optional[List[str]] = None,
        max_tree_memory_mb: int = 256,
        request_id_headers: Optional[List[str]] = None,
        cors_allowed_origins: Optional[List[str]] = None,
        max_concurrent_requests: int = 0,
        queue_size: int = 0,
        queue_timeout_secs: int = 60,
        retry_max_retries: int = 3,
        retry_initial_backoff_ms: int = 50,
        retry_max_backoff_ms: int = 5000,
        disable_retries: bool = False,
        cb_failure_threshold: int = 5,
        cb_success_threshold: int = 2,
        cb_timeout_duration_secs: int = 30,
        disable_circuit_breaker: bool = False,
        health_failure_threshold: int = 3,
        health_success_threshold: int = 2,
        health_check_timeout_secs: int = 5,
        json_log: bool = False,
        shutdown_grace_period_secs: int = 180,
    ):
        kwargs = dict(locals())
        del kwargs["self"]
        self._config = build_config(kwargs)
        self._grace_secs = 180 if shutdown_grace_period_secs is None else shutdown_grace_period_secs
        self._lock = threading.Lock()  # guards _handle and the addresses
        self._handle: Optional[int] = None
        self._address: Optional[str] = None
        self._metrics_address: Optional[str] = None

    # ----- configuration and addresses -----

    @property
    def config(self) -> Dict[str, Any]:
        """A copy of the JSON configuration sent to Go."""
        return dict(self._config)

    @property
    def address(self) -> Optional[str]:
        """host:port the router listens on, or None when not running."""
        return self._address

    @property
    def metrics_address(self) -> Optional[str]:
        """host:port of the Prometheus listener, or None when not running."""
        return self._metrics_address

    @property
    def url(self) -> Optional[str]:
        """A base URL a client on this machine can use (wildcard hosts become loopback)."""
        if self._address is None:
            return None
        host, _, port = self._address.rpartition(":")
        host = {"0.0.0.0": "127.0.0.1", "[::]": "[::1]", "": "127.0.0.1"}.get(host, host)
        return f"http://{host}:{port}"

    @property
    def running(self) -> bool:
        """True between a start and the matching stop."""
        return self._handle is not None

    # ----- lifecycle -----

    def _start_native(self) -> int:
        with self._lock:
            if self._handle is not None:
                raise RuntimeError(f"router is already running at {self._address}")
            result = _native.router_start(self._config)
            self._handle = int(result["handle"])
            self._address = result.get("address")
            self._metrics_address = result.get("metrics_address")
            return self._handle

    def _release(self, handle: int, grace_secs: Optional[float]) -> None:
        """Stop and release `handle` once, whoever asks first."""
        with self._lock:
            if self._handle != handle:
                return
            self._handle = None
            self._address = None
            self._metrics_address = None
        grace = self._grace_secs if grace_secs is None else grace_secs
        try:
            _native.stop(handle, int(grace * 1000))
        except RuntimeError as e:  # e.g. the grace period ran out; the handle is released anyway
            logger.warning("router shutdown: %s", e)

    def start(self) -> None:
        """Run the router until Ctrl-C, SIGTERM or stop() from another thread.

        Returns normally on those; raises RuntimeError when the router cannot
        start (port in use, no worker became healthy in time) or fails, and
        ValueError when the configuration is invalid.
        """
        if self._handle is not None:
            raise RuntimeError(f"router is already running at {self._address}")
        restore = _install_sigterm_handler()
        try:
            # Inside the try: a signal that lands as soon as Go listens still stops it.
            self._wait_loop(self._start_native())
        except (KeyboardInterrupt, _Terminated):
            logger.info("router stopping on signal")
        finally:
            try:
                handle = self._handle  # ours: it was None before _start_native
                if handle is not None:
                    self._stop_interruptibly(handle)
            finally:
                restore()

    def _stop_interruptibly(self, handle: int) -> None:
        """Stop with the grace period, but let a second Ctrl-C/SIGTERM stop waiting."""
        stopper = threading.Thread(target=self._release, args=(handle, None),
                                   name="sglang-router-stop", daemon=True)
        stopper.start()
        try:
            while stopper.is_alive():
                stopper.join(WAIT_SLICE_MS / 1000)
        except (KeyboardInterrupt, _Terminated):
            logger.warning("interrupted again: not waiting for in-flight requests to finish")

    def _wait_loop(self, handle: int, deadline: Optional[float] = None) -> bool:
        """Wait in short slices (so signals reach Python) until the service
        ends (True) or `deadline` (time.monotonic) passes (False)."""
        while self._handle == handle:
            slice_ms = WAIT_SLICE_MS
            if deadline is not None:
                left_ms = int((deadline - time.monotonic()) * 1000)
                if left_ms <= 0:
                    return False
                slice_ms = min(slice_ms, left_ms)
            try:
                if _native.wait(handle, slice_ms):
                    return True
            except _native.NativeError as e:
                if e.error_class == "not_found" and self._handle != handle:
                    return True  # stop() from another thread released the handle
                raise
        return True

    def serve_in_background(self) -> "Router":
        """Start without blocking and return self (usable as a context manager)."""
        self._start_native()
        return self

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Block until the router ends or `timeout` seconds pass.

        Returns True if it ended cleanly (or is not running), False on timeout;
        raises RuntimeError if it failed (e.g. no worker became healthy).
        """
        handle = self._handle
        if handle is None:
            return True
        deadline = None if timeout is None else time.monotonic() + timeout
        return self._wait_loop(handle, deadline)

    def stop(self, grace_secs: Optional[float] = None) -> None:
        """Stop a running router; in-flight requests get `grace_secs`
        (default shutdown_grace_period_secs). No-op when not running."""
        handle = self._handle
        if handle is not None:
            self._release(handle, grace_secs)

    def __enter__(self) -> "Router":
        if self._handle is None:
            self.serve_in_background()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # ----- management -----

    def _call(self, method: str, args: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        handle = self._handle
        if handle is None:
            raise RuntimeError("router is not running")
        return _native.call(handle, method, args)

    def add_worker(
        self,
        url: str,
        role: str = "regular",
        bootstrap_port: Optional[int] = None,
        wait: bool = True,
    ) -> None:
        """Add a worker (role "regular", "prefill" or "decode"). With wait, block
        until its /health answers (within the startup timeout); without, it
        joins once a health check passes.

        Go runs the add in the background and Python waits for it in short
        slices, so Ctrl-C interrupts the wait (KeyboardInterrupt) and cancels
        the add. Raises ValueError for an invalid URL, role or port and
        RuntimeError when the worker exists, its host does not resolve, or it
        did not become healthy in time.
        """
        args = {"url": url, "role": role, "bootstrap_port": bootstrap_port, "wait": wait}
        op = int(self._call("add_worker_async", args)["handle"])
        try:
            while not _native.wait(op, WAIT_SLICE_MS):
                pass
        finally:
            _native.stop(op, 0)  # cancels the add if it still runs; releases its handle

    def remove_worker(self, url: str) -> None:
        """Remove a worker from every pool (and its cache-aware state)."""
        self._call("remove_worker", {"url": url})

    def list_workers(self) -> Dict[str, List[str]]:
        """{"urls": [...]} in regular mode, {"prefill": [...], "decode": [...]} in PD mode."""
        return self._call("list_workers")

    def info(self) -> Dict[str, Any]:
        """{"address", "metrics_address", "mode", "policy"} of the running router."""
        return self._call("info")

    def __repr__(self) -> str:
        state = f"running at {self._address}" if self._handle is not None else "stopped"
        return f"<Router {state}>"


def _install_sigterm_handler():
    """Make SIGTERM unwind Router.start() like Ctrl-C does; returns the undo.

    Only the main thread can install handlers; elsewhere this is a no-op.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def on_sigterm(signum, frame):
        raise _Terminated()

    previous = signal.signal(signal.SIGTERM, on_sigterm)

    def restore():
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)

    return restore
