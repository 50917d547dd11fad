"""sglang_router: an HTTP router for SGLang workers, implemented in Go.

    from sglang_router import Router, PolicyType
    Router(worker_urls=["http://127.0.0.1:31000"]).start()   # blocks until Ctrl-C
"""

from sglang_router.router import PolicyType, Router
from sglang_router.version import __version__

__all__ = ["Router", "PolicyType", "__version__"]
