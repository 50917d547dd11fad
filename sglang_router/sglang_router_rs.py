"""Compatibility alias: the original 0.2.x line kept its native module at
``sglang_router.sglang_router_rs`` (v0.1.6 at top-level ``sglang_router_rs``,
which this package also provides)."""

from sglang_router.router import PolicyType, Router

__all__ = ["PolicyType", "Router"]
