"""Small helpers for tests: ports, polling, plain-urllib HTTP calls."""

import json
import socket
import time
import urllib.error
import urllib.request
from typing import Any, Callable, Optional, Tuple


def pick_free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_until(condition: Callable[[], bool], timeout: float = 5.0, interval: float = 0.02) -> bool:
    """Poll `condition` until it is true (True) or `timeout` passes (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())


def http(method: str, url: str, body: Any = None, headers: Optional[dict] = None,
         timeout: float = 10.0) -> Tuple[int, bytes, dict]:
    """One request; returns (status, body, headers) for any status, raises on connection errors.

    A dict/list body is sent as JSON; bytes/str as is."""
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        else:
            data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


def get_json(url: str, timeout: float = 10.0) -> Tuple[int, Any]:
    status, body, _ = http("GET", url, timeout=timeout)
    return status, json.loads(body) if body else None


def post_json(url: str, payload: Any, timeout: float = 10.0) -> Tuple[int, Any]:
    status, body, _ = http("POST", url, payload, timeout=timeout)
    try:
        return status, json.loads(body) if body else None
    except ValueError:
        return status, body
