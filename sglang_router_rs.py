"""Compatibility alias: the original router's native module was importable as
``sglang_router_rs``; existing code that imports it keeps working."""

from sglang_router.router import PolicyType, Router

__all__ = ["PolicyType", "Router"]
