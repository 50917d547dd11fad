"""The one ctypes table over the Go library ``lib/libsglang_router.so``.

The contract is go/capi/doc.go: every function that returns ``char*`` returns
a JSON object allocated by Go, which must be released with ``sgl_free``; an
error is ``{"error": {"class": C, "message": M}}``. This module loads the
library lazily (importing ``sglang_router``, ``--help`` and argument parsing
need only the option table, _spec.json, not the library), declares every export once, and turns error results into
exceptions: class "config" raises :class:`ConfigError` (a ``ValueError``), every
other class raises :class:`NativeError` (a ``RuntimeError``), message intact.

Every call releases the GIL (ctypes does that for ``CDLL`` functions), so other
Python threads run while Go blocks in ``sgl_wait`` or ``sgl_stop``.
"""

import ctypes
import json
import os
import threading
from typing import Any, Dict, List, Optional

# SGLANG_ROUTER_LIB overrides the library path (a developer's fresh go build).
LIB_ENV = "SGLANG_ROUTER_LIB"
LIB_NAME = "libsglang_router.so"
BUILD_HINT = (
    "build it with `pip install .` from the project root, or with "
    "`go build -buildmode=c-shared -o sglang_router/lib/libsglang_router.so ./go/capi`"
)


class ConfigError(ValueError):
    """The router configuration is invalid; the message names the field."""

    error_class = "config"


class NativeError(RuntimeError):
    """Any other failure reported by the Go library (bind, startup_timeout, ...)."""

    def __init__(self, message: str, error_class: str = "internal"):
        super().__init__(message)
        self.error_class = error_class


def library_path() -> str:
    """Where the Go library is expected: $SGLANG_ROUTER_LIB, else lib/ beside this file."""
    return os.environ.get(LIB_ENV) or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "lib", LIB_NAME
    )


def available() -> bool:
    """True when the library file exists (it may still fail to load)."""
    return os.path.isfile(library_path())


# Each export: (argtypes, restype). char* results are c_void_p so they can be freed.
_EXPORTS = {
    "sgl_router_start": ([ctypes.c_char_p], ctypes.c_void_p),
    "sgl_sim_start": ([ctypes.c_char_p], ctypes.c_void_p),
    "sgl_wait": ([ctypes.c_longlong, ctypes.c_int], ctypes.c_void_p),
    "sgl_stop": ([ctypes.c_longlong, ctypes.c_int], ctypes.c_void_p),
    "sgl_call": ([ctypes.c_longlong, ctypes.c_char_p, ctypes.c_char_p], ctypes.c_void_p),
    "sgl_free": ([ctypes.c_void_p], None),
    "sgl_version": ([], ctypes.c_void_p),
    "sgl_spec": ([], ctypes.c_void_p),
    "sgl_config": ([ctypes.c_char_p], ctypes.c_void_p),
    "sgl_cli_start": ([ctypes.c_char_p], ctypes.c_void_p),
}

_lib: Optional[ctypes.CDLL] = None
_lib_lock = threading.Lock()  # guards the one-time load of _lib

# The Go runtime starts its threads when the library is loaded; a fork()ed
# child has none of them, so any call into Go there would hang forever.
_forked_after_load = False

FORK_HINT = (
    "the sglang_router Go library was loaded before this process was forked, and Go "
    "cannot run in a forked child; start routers in a process created with the "
    "'spawn' method (multiprocessing.get_context('spawn')), or fork before the "
    "parent uses the router"
)


def _after_fork_in_child() -> None:
    global _forked_after_load
    if _lib is not None:
        _forked_after_load = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _load() -> ctypes.CDLL:
    global _lib
    if _forked_after_load:
        raise NativeError(FORK_HINT, "internal")
    with _lib_lock:
        if _lib is None:
            path = library_path()
            if not os.path.isfile(path):
                raise ImportError(f"sglang_router native library not found at {path}; {BUILD_HINT}")
            lib = ctypes.CDLL(path)
            for name, (argtypes, restype) in _EXPORTS.items():
                fn = getattr(lib, name)
                fn.argtypes = argtypes
                fn.restype = restype
            _lib = lib
        return _lib


def raise_for_error(err: Dict[str, Any]) -> None:
    """Raise the exception an error object {"class", "message"} stands for."""
    cls = err.get("class", "internal") if isinstance(err, dict) else "internal"
    msg = err.get("message", str(err)) if isinstance(err, dict) else str(err)
    if cls == "config":
        raise ConfigError(msg)
    raise NativeError(msg, cls)


def _call(name: str, *args) -> Dict[str, Any]:
    """Call export `name`, decode its JSON result, free it, raise on an error result."""
    lib = _load()
    ptr = getattr(lib, name)(*args)
    if not ptr:
        raise NativeError(f"{name} returned NULL", "internal")
    try:
        text = ctypes.string_at(ptr).decode("utf-8")
    finally:
        lib.sgl_free(ptr)
    result = json.loads(text)
    if isinstance(result, dict) and "error" in result and result["error"] is not None:
        raise_for_error(result["error"])
    return result


def _json_bytes(obj: Any) -> bytes:
    return json.dumps(obj).encode("utf-8")


def router_start(config: Dict[str, Any]) -> Dict[str, Any]:
    """Start a router: {"handle", "address", "metrics_address"}."""
    return _call("sgl_router_start", _json_bytes(config))


def sim_start(config: Dict[str, Any]) -> Dict[str, Any]:
    """Start simulated workers: {"handle", "urls"}."""
    return _call("sgl_sim_start", _json_bytes(config))


def spec() -> Dict[str, Any]:
    """The option table and both sets of defaults (go/config): {"spec", "version"}."""
    return _call("sgl_spec")


def effective_config(config: Dict[str, Any]) -> Dict[str, Any]:
    """The configuration a router started with `config` runs with (defaults
    filled in, validated); raises ConfigError like router_start would."""
    return _call("sgl_config", _json_bytes(config))["config"]


def cli_start(argv: List[str]) -> int:
    """Run one `sglang-router` command line in Go (see go/cli); returns its handle.
    wait_exit() gives its exit status; stop() is Ctrl-C."""
    return int(_call("sgl_cli_start", _json_bytes(list(argv)))["handle"])


def wait_exit(handle: int, timeout_ms: int) -> Optional[int]:
    """The exit status of a command started by cli_start, or None while it runs."""
    result = _call("sgl_wait", handle, int(timeout_ms))
    return int(result.get("exit_code", 0)) if result.get("done") else None


def wait(handle: int, timeout_ms: int) -> bool:
    """True when the service has ended cleanly, False while it runs.

    A service that ended with an error raises that error (e.g. class
    "startup_timeout", whose message names the unreachable URLs).
    """
    return bool(_call("sgl_wait", handle, int(timeout_ms)).get("done"))


def stop(handle: int, grace_ms: int) -> None:
    """Stop a service (in-flight requests get grace_ms) and release its handle."""
    _call("sgl_stop", handle, int(grace_ms))


def call(handle: int, method: str, args: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """A management call (add_worker, remove_worker, list_workers, info)."""
    return _call("sgl_call", handle, method.encode("utf-8"), _json_bytes(args or {}))


def version() -> str:
    """The Go library's version string."""
    return str(_call("sgl_version").get("version", ""))
