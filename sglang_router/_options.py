"""The router's options as Go defines them (go/config: the flag table and
``Defaults()``), seen from Python.

Nothing here restates a default: ``RouterArgs``, the ``Router`` signature and
every argparse flag are derived from the spec. The spec is written next to
this file as ``_spec.json`` when the package is built (setup.py asks Go for
it), so importing the package does not load the Go library (a process that
imports sglang_router and then forks stays usable). Without that file (a
developer's source tree with SGLANG_ROUTER_LIB set) it is read from the
library through ``sgl_spec``.
"""

import argparse
import json
import os
from typing import Any, Dict, List

from sglang_router import _native

SPEC_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_spec.json")


def _load() -> Dict[str, Any]:
    if os.path.isfile(SPEC_FILE):
        with open(SPEC_FILE) as f:
            return json.load(f)
    if _native.available():
        return _native.spec()["spec"]
    raise ImportError(f"sglang_router is not built (no {SPEC_FILE}); {_native.BUILD_HINT}")


SPEC: Dict[str, Any] = _load()
FLAGS: List[Dict[str, Any]] = SPEC["flags"]
POLICIES: List[str] = SPEC["policies"]
BY_KEY: Dict[str, Dict[str, Any]] = {f["key"]: f for f in FLAGS if f["key"]}
KEYS: List[str] = [f["key"] for f in FLAGS if f["key"]]

# The keywords of the v0.1.6 Router class that may be given by position, in order.
POSITIONAL = (
    "worker_urls", "policy", "host", "port", "worker_startup_timeout_secs",
    "worker_startup_check_interval", "cache_threshold", "balance_abs_threshold",
    "balance_rel_threshold", "eviction_interval_secs", "max_tree_size", "max_payload_size",
    "log_dir", "log_level", "service_discovery", "selector", "service_discovery_port",
    "service_discovery_namespace", "prefill_selector", "decode_selector", "prometheus_port",
    "prometheus_host", "pd_disaggregation", "prefill_urls", "decode_urls",
    "request_timeout_secs", "bootstrap_port_annotation",
)


def python_value(key: str, value: Any) -> Any:
    """A Go default as Python shows it: "" and an unset optional number are
    None, numbers of float flags are floats, lists and dicts are copies."""
    kind = BY_KEY[key]["kind"]
    if kind == "bool":
        return bool(value)
    if kind == "string":
        return value or None
    if kind in ("int", "float"):
        if value == 0 and BY_KEY[key].get("nullable"):
            return None
        return float(value) if kind == "float" else int(value)
    if kind == "selector":
        return dict(value or {})
    if kind == "prefill":
        return [tuple(p) for p in value or []]
    return list(value or [])


def class_defaults() -> Dict[str, Any]:
    """Router(...) keyword defaults, by keyword."""
    return {k: python_value(k, SPEC["defaults"][k]) for k in KEYS}


def cli_defaults() -> Dict[str, Any]:
    """launch_router / RouterArgs defaults, by RouterArgs field."""
    return {k: python_value(k, SPEC["cli_defaults"][k]) for k in KEYS}


def default_note(flag: Dict[str, Any], value: Any) -> str:
    """" (default: V)" for a default worth showing, once per flag."""
    if flag["kind"] == "bool" or value in (None, "", [], {}):
        return ""
    if isinstance(value, list):
        value = " ".join(str(v) for v in value)
    return f" (default: {value})"


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


# argparse keywords per kind (dest and default are added per flag).
_KIND_ARGS = {
    "bool": lambda f: {"action": "store_true"},
    "string": lambda f: {"type": str},
    "int": lambda f: {"type": int},
    "float": lambda f: {"type": float},
    "list": lambda f: {"type": str, "nargs": "*"},
    "selector": lambda f: {"type": str, "nargs": "+"},
    "prefill": lambda f: {"nargs": "+", "action": _PrefillAction, "metavar": ("URL", "BOOTSTRAP_PORT")},
    "append": lambda f: {"nargs": 1, "action": "append"},
}

# Flags launch_server owns when it adds the router's flags (exclude_host_port).
HOST_PORT = ("host", "port")


def dest_of(flag: Dict[str, Any]) -> str:
    """The argparse dest of a flag: its canonical name without dashes
    (prefill_urls is --prefill, so its dest is "prefill", as the original's)."""
    return flag["names"][0][2:].replace("-", "_")


def add_flags(parser: argparse.ArgumentParser, prefix: str = "", exclude_host_port: bool = False) -> None:
    """Add every router flag to `parser`, by group, with help and one default.

    With prefix "router-", every flag is spelled --router-NAME (dest
    router_NAME) except --worker-urls, as the original's launch_server
    expects; exclude_host_port leaves out --host and --port.
    """
    defaults = cli_defaults()
    groups: Dict[str, Any] = {}
    for f in FLAGS:
        key = f["key"]
        if exclude_host_port and key in HOST_PORT:
            continue
        group = groups.get(f["group"]) or groups.setdefault(f["group"], parser.add_argument_group(f["group"]))
        unprefixed = key in HOST_PORT or key == "worker_urls"
        pre = "" if unprefixed else prefix
        names = ["--" + pre + n[2:] for n in f["names"]]
        kw = _KIND_ARGS[f["kind"]](f)
        kw["dest"] = pre.replace("-", "_") + dest_of(f)
        value = defaults.get(key) if key else False
        if f["kind"] in ("prefill", "append", "selector"):
            kw["default"] = None  # the parse helpers turn None into [] / {}
        else:
            kw["default"] = value
        if f.get("choices"):
            kw["choices"] = f["choices"]
        if f.get("metavar") and "metavar" not in kw:
            kw["metavar"] = f["metavar"]
        kw["help"] = f["help"] + default_note(f, value)
        group.add_argument(*names, **kw)
