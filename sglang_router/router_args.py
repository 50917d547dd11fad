"""``RouterArgs``: the command line's view of the router configuration.

The same class is importable as ``sglang_router.router_args.RouterArgs``
(the original's 0.2.x module) and ``sglang_router.launch_router.RouterArgs``
(v0.1.6). Its fields and defaults are derived from Go's flag table and
``CLIDefaults()`` (see _options.py): one field per flag, named like the
flag's config key, plus ``verbose`` and ``eviction_interval`` (v0.1.6's name
of ``eviction_interval_secs``; whichever of the two is set wins).
"""

import argparse
import dataclasses
import logging
from typing import Any, Dict, List, Optional, Sequence, Tuple

from sglang_router import _options

logger = logging.getLogger(__name__)

_TYPES = {"bool": bool, "string": Optional[str], "int": int, "float": float,
          "list": List[str], "selector": Dict[str, str], "append": List[str],
          "prefill": List[Tuple[str, Optional[int]]]}


def _field(key: str, default: Any) -> Tuple[str, Any, Any]:
    kind = _options.BY_KEY[key]["kind"]
    typ = _TYPES[kind]
    if isinstance(default, (list, dict)):
        return key, typ, dataclasses.field(default_factory=lambda d=default: type(d)(d))
    if default is None and kind in ("int", "float"):
        typ = Optional[typ]
    return key, typ, dataclasses.field(default=default)


class _RouterArgsMethods:
    """Behaviour of RouterArgs; the fields are added by make_dataclass below."""

    def __post_init__(self) -> None:
        # v0.1.6 spelled it eviction_interval, 0.2.x eviction_interval_secs.
        default = _options.cli_defaults()["eviction_interval_secs"]
        if self.eviction_interval_secs == default and self.eviction_interval is not None:
            self.eviction_interval_secs = self.eviction_interval
        self.eviction_interval = self.eviction_interval_secs

    @staticmethod
    def add_cli_args(
        parser: argparse.ArgumentParser,
        use_router_prefix: bool = False,
        exclude_host_port: bool = False,
    ) -> None:
        """Add the router flags to `parser`.

        With use_router_prefix every flag is spelled --router-NAME (dest
        router_NAME), except --host, --port and --worker-urls; exclude_host_port
        leaves out --host and --port (launch_server owns them).
        """
        _options.add_flags(parser, "router-" if use_router_prefix else "", exclude_host_port)

    @classmethod
    def from_cli_args(cls, args: Any, use_router_prefix: bool = False) -> "RouterArgs":
        """Build RouterArgs from an argparse namespace or any object with the
        same attributes; a missing attribute takes the default.

        `prefill` is a list of [url] / [url, port_or_"none"] lists, `decode` a
        list of [url] lists, selectors are lists of "key=value" items.
        Raises ValueError on an invalid bootstrap port or selector item.
        """
        prefix = "router_" if use_router_prefix else ""

        def get(name: str, default: Any = None) -> Any:
            unprefixed = name in ("worker_urls", "host", "port")
            for attr in ((name,) if unprefixed else (prefix + name, name)):
                if hasattr(args, attr):
                    return getattr(args, attr)
            return default

        values = {}
        for f in dataclasses.fields(cls):
            value = get(f.name, _MISSING)
            if value is not _MISSING:
                values[f.name] = value
        # CLI namespaces carry `prefill`/`decode`; other objects may carry the parsed lists.
        prefill, decode = get("prefill"), get("decode")
        values["prefill_urls"] = cls._parse_prefill_urls(values.get("prefill_urls") if prefill is None else prefill)
        values["decode_urls"] = cls._parse_decode_urls(values.get("decode_urls") if decode is None else decode)
        for name in ("selector", "prefill_selector", "decode_selector"):
            values[name] = _parse_selector_strict(values.get(name), name)
        if values.get("worker_urls") is None:
            values["worker_urls"] = []
        return cls(**values)

    def router_kwargs(self) -> Dict[str, Any]:
        """The Router(...) keywords this configuration means: only those that
        differ from the Router class's defaults (Go fills in the rest)."""
        class_defaults = _options.class_defaults()
        kw = {}
        for key in _options.KEYS:
            value = getattr(self, key)
            if isinstance(value, list) and key == "prefill_urls":
                value = [tuple(p) for p in value]
            if value != class_defaults[key]:
                kw[key] = value
        if self.verbose:
            kw["log_level"] = "debug"
        kw["worker_urls"] = list(self.worker_urls or [])
        return kw

    def _validate_router_args(self) -> None:
        """The original's hook (0.2.x): Go validates when the router starts;
        this only explains how PD policies combine."""
        if self.pd_disaggregation and (self.prefill_policy or self.decode_policy):
            logger.info("PD policies: prefill %s, decode %s", self.prefill_policy or self.policy,
                        self.decode_policy or self.policy)

    @staticmethod
    def _parse_selector(selector_list: Any) -> Dict[str, str]:
        """["k=v", ...] -> {"k": "v"} (split at the first "="), as the original's
        helper, which scripts call directly: "a=b c=d" in one item is split at
        spaces and an item without "=" is skipped. The command line itself
        refuses such an item (from_cli_args), where skipping hid typos."""
        if not selector_list:
            return {}
        if isinstance(selector_list, dict):
            return dict(selector_list)
        items = _split_one_liner(selector_list)
        return dict(item.split("=", 1) for item in items if "=" in item)

    @staticmethod
    def _parse_prefill_urls(prefill_list: Optional[Sequence]) -> List[Tuple[str, Optional[int]]]:
        """[[url], [url, "8001"], [url, "none"]] -> [(url, None), (url, 8001), (url, None)]."""
        result = []
        for item in prefill_list or []:
            if isinstance(item, str):
                item = [item]
            if not 1 <= len(item) <= 2:
                raise ValueError(f"--prefill takes URL [BOOTSTRAP_PORT], got {list(item)}")
            url, port = item[0], (item[1] if len(item) == 2 else None)
            result.append((url, _parse_bootstrap_port(port)))
        return result

    @staticmethod
    def _parse_decode_urls(decode_list: Optional[Sequence]) -> List[str]:
        """[[url], ...] (or [url, ...]) -> [url, ...]."""
        return [item if isinstance(item, str) else item[0] for item in decode_list or []]


_MISSING = object()


def _parse_bootstrap_port(port: Any) -> Optional[int]:
    if port is None or isinstance(port, int):
        return port
    if str(port).strip().lower() == "none":
        return None
    try:
        return int(port)
    except ValueError:
        raise ValueError(f"Invalid bootstrap port: {port}. Must be a number or 'none'") from None


def _split_one_liner(items: Any) -> List[str]:
    """Selector items as a list; one item "a=b c=d" (a YAML one-liner) is split."""
    if isinstance(items, str):
        items = [items]
    items = list(items)
    if len(items) == 1 and " " in items[0]:
        items = items[0].split()
    return items


def _parse_selector_strict(items: Any, name: str) -> Dict[str, str]:
    if not items:
        return {}
    if isinstance(items, dict):
        return dict(items)
    result = {}
    items = _split_one_liner(items)
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            flag = "--" + name.replace("_", "-")
            raise ValueError(f"Invalid {flag} item {item!r}: expected key=value")
        result[key] = value
    return result


def _fields() -> List[Tuple[str, Any, Any]]:
    defaults = _options.cli_defaults()
    fields = [_field(key, defaults[key]) for key in _options.KEYS]
    fields.append(("verbose", bool, dataclasses.field(default=False)))
    fields.append(("eviction_interval", Optional[int], dataclasses.field(default=None)))
    return fields


RouterArgs = dataclasses.make_dataclass("RouterArgs", _fields(), bases=(_RouterArgsMethods,))
RouterArgs.__module__ = __name__
RouterArgs.__doc__ = (
    "The router configuration as the command line sees it; one field per flag "
    "(see `python -m sglang_router.launch_router --help`), defaults from Go."
)
