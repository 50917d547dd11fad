"""The Python ``Router``: a thin handle on a router running inside the Go library.

The constructor only maps Python types to the JSON configuration (keys = the
keyword names, see go/config/config.go); Go validates it when the router
starts, so an invalid value raises ``ValueError`` from :meth:`Router.start` or
:meth:`Router.serve_in_background`, with a message naming the field.
"""

import enum
import inspect
import logging
import signal
import threading
import time
from typing import Any, Dict, List, Optional, Union

from sglang_router import _logging, _native, _options

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
    """The JSON configuration for sgl_router_start: the keywords the caller
    set, mapped to JSON types. None means "the default": it is left out,
    and Go fills in every absent key from config.Defaults()."""
    return {k: _MAPPERS.get(k, lambda v: v)(v) for k, v in kwargs.items() if v is not None}


def policy_from_str(policy_str: Optional[str]) -> Optional[PolicyType]:
    """'cache_aware' -> PolicyType.CacheAware (None stays None). An unknown
    name raises KeyError, as the original's did."""
    if policy_str is None or isinstance(policy_str, PolicyType):
        return policy_str
    try:
        return PolicyType(policy_str)
    except ValueError:
        raise KeyError(policy_str) from None


def _signature() -> inspect.Signature:
    """Router(...)'s signature, derived from Go: the v0.1.6 keywords in their
    positional order, then every other option as keyword-only."""
    defaults = _options.class_defaults()
    defaults["policy"] = PolicyType(defaults["policy"])
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
              inspect.Parameter("worker_urls", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    for name in _options.POSITIONAL[1:]:
        params.append(inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=defaults[name]))
    for name in _options.KEYS:
        if name not in _options.POSITIONAL:
            params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=defaults[name]))
    return inspect.Signature(params)


class Router:
    """An SGLang router. ``start()`` blocks; ``serve_in_background()`` does not.

    Every keyword of the original ``Router`` (v0.1.6 and the 0.2.x line) is
    accepted; ``inspect.signature(Router)`` lists them with their defaults,
    which come from the Go library (the CLI has its own: port 30000,
    cache_aware). Only the keywords a caller sets cross to Go; None means
    "the default". ``Router.from_args(RouterArgs)`` builds one from the
    command line's view. Several routers can run in one process, and a
    stopped router can be started again.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        bound = _SIGNATURE.bind(self, *args, **kwargs)  # TypeError for unknown keywords
        given = dict(bound.arguments)
        del given["self"]
        self._config = build_config(given)
        self._grace_secs: Optional[float] = given.get("shutdown_grace_period_secs")
        self._lock = threading.Lock()  # guards _handle and the addresses
        self._handle: Optional[int] = None
        self._address: Optional[str] = None
        self._metrics_address: Optional[str] = None

    @classmethod
    def from_args(cls, args: Any) -> "Router":
        """A Router from a RouterArgs (or a launch_router argparse namespace),
        as the original 0.2.x ``Router.from_args``."""
        from sglang_router.router_args import RouterArgs

        if not isinstance(args, RouterArgs):
            args = RouterArgs.from_cli_args(args)
        return cls(**args.router_kwargs())

    def effective_config(self) -> Dict[str, Any]:
        """The configuration this router runs (or would run) with, as Go sees
        it: every default filled in. Raises ValueError when it is invalid."""
        return _native.effective_config(self._config)

    # ----- configuration and addresses -----

    @property
    def config(self) -> Dict[str, Any]:
        """A copy of the JSON configuration sent to Go (only what was set)."""
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
        grace = grace_secs if grace_secs is not None else self._grace_secs
        if grace is None:
            grace = _options.class_defaults()["shutdown_grace_period_secs"]
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
        if self._config.get("json_log"):
            _logging.use_json_for_package()
        restore = _install_sigterm_handler()
        signalled = False
        try:
            # Inside the try: a signal that lands as soon as Go listens still stops it.
            self._wait_loop(self._start_native())
        except (KeyboardInterrupt, _Terminated):
            signalled = True
        finally:
            try:
                handle = self._handle  # ours: it was None before _start_native
                if handle is not None:
                    self._stop_interruptibly(handle, announce=signalled)
            finally:
                restore()

    def _stop_interruptibly(self, handle: int, announce: bool = False) -> None:
        """Stop with the grace period; a second Ctrl-C/SIGTERM, whenever it
        lands, cuts the in-flight requests and returns at once."""
        stopper = threading.Thread(target=self._release, args=(handle, None),
                                   name="sglang-router-stop", daemon=True)
        try:
            if announce:
                logger.warning("%s", self._stopping_message(handle))
            stopper.start()
            while stopper.is_alive():
                stopper.join(WAIT_SLICE_MS / 1000)
        except (KeyboardInterrupt, _Terminated):
            logger.warning("stopping now: cutting in-flight requests")
            try:
                _native.call(handle, "abort")
            except RuntimeError:
                pass  # already stopped
            if stopper.ident is None:
                stopper.start()  # the interrupt came before the graceful stop began
            stopper.join(5)

    def _stopping_message(self, handle: int) -> str:
        """What a graceful stop waits for, and how to skip it."""
        try:
            state = _native.call(handle, "inflight")
        except RuntimeError:
            return "stopping"
        n, grace = state.get("inflight", 0), state.get("grace_secs", 0)
        if self._grace_secs is not None:
            grace = self._grace_secs
        return (f"stopping: waiting up to {grace:g}s for {n} in-flight request{'' if n == 1 else 's'}; "
                "press Ctrl-C again to stop now")

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
        until its health endpoint (health_check_endpoint, default /health)
        answers 2xx (within the startup timeout); without, it joins once a
        health check passes.

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


_SIGNATURE = _signature()
Router.__init__.__signature__ = _SIGNATURE  # what help() and IDEs that inspect show
