"""Shared fixtures: free ports, fake SGLang workers, and the `native` marker.

Tests marked ``@pytest.mark.native`` need the Go library; they are skipped,
with the reason, when it has not been built.
"""

import os
import sys
from typing import Callable, List

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # for `import fake_worker`

from fake_worker import FakeWorker  # noqa: E402
from helpers import pick_free_port  # noqa: E402
from sglang_router import _native  # noqa: E402


def pytest_collection_modifyitems(config, items):
    if _native.available():
        return
    skip = pytest.mark.skip(
        reason=f"Go library not built ({_native.library_path()}): {_native.BUILD_HINT}"
    )
    for item in items:
        if "native" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def free_port() -> Callable[[], int]:
    """Call it for a free port: ``port = free_port()``. Ports differ within a test."""
    given: List[int] = []

    def pick() -> int:
        for _ in range(50):
            port = pick_free_port()
            if port not in given:
                given.append(port)
                return port
        raise RuntimeError("no free port")

    return pick


@pytest.fixture
def fake_worker() -> Callable[..., FakeWorker]:
    """Factory of started fake workers, all stopped after the test:
    ``w = fake_worker("w1", delay=0.1)`` (keywords are FakeWorker's knobs)."""
    started: List[FakeWorker] = []

    def make(name: str = None, **kwargs) -> FakeWorker:
        w = FakeWorker(name, **kwargs).start()
        started.append(w)
        return w

    yield make
    for w in started:
        w.stop()
