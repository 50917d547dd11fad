"""A pure-Python fake SGLang worker for end-to-end tests (no GPU, no sglang).

It answers the routes a router uses, records every request, says in each
answer which worker answered ("worker": name), streams in SGLang's and
OpenAI's SSE formats, and can be told to fail, slow down or go unhealthy.

    w = FakeWorker("w1").start()
    ... w.url, w.requests, w.count("/generate") ...
    w.stop()
"""

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional
from urllib.parse import parse_qs, urlsplit

GENERATION_ROUTES = ("/generate", "/v1/chat/completions", "/v1/completions")


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: Dict[str, List[str]]
    headers: Dict[str, str]  # lower-case names
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Knobs:
    """What the worker does; tests change these while it runs."""

    healthy: bool = True  # /health answers 200, else 503
    fail_status: int = 0  # generation routes answer this status (0 = normal answers)
    fail_times: int = -1  # with fail_status: fail this many times, then recover (-1 = always)
    delay: float = 0.0  # seconds before a generation answer (and between stream events)
    load: int = 0  # what /get_load reports
    stream_events: int = 3  # content events in a streamed answer
    extra: Dict[str, Any] = field(default_factory=dict)  # merged into /get_server_info


class FakeWorker:
    """A fake SGLang server on a real socket, in a background thread."""

    def __init__(self, name: Optional[str] = None, host: str = "127.0.0.1", port: int = 0,
                 model: str = "fake-model", **knobs: Any):
        self.name = name or f"worker-{uuid.uuid4().hex[:6]}"
        self.model = model
        self.knobs = Knobs(**knobs)
        self._lock = threading.Lock()  # guards requests, served, knobs.fail_times
        self.requests: List[RecordedRequest] = []
        self.served = 0
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._server.worker = self  # type: ignore[attr-defined]
        self._thread: Optional[threading.Thread] = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self._server.server_address[0]}:{self.port}"

    def start(self) -> "FakeWorker":
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True,
                                        name=f"fake-worker-{self.name}")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> "FakeWorker":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ----- assertions -----

    def count(self, path: str) -> int:
        """How many requests hit `path`."""
        with self._lock:
            return sum(1 for r in self.requests if r.path == path)

    def last(self, path: str) -> Optional[RecordedRequest]:
        with self._lock:
            for r in reversed(self.requests):
                if r.path == path:
                    return r
        return None

    def _record(self, req: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(req)

    def _take_failure(self) -> int:
        """The status to fail this generation request with, or 0."""
        with self._lock:
            k = self.knobs
            if not k.fail_status or k.fail_times == 0:
                return 0
            if k.fail_times > 0:
                k.fail_times -= 1
            return k.fail_status

    def _count_served(self) -> None:
        with self._lock:
            self.served += 1


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real server

    def log_message(self, format, *args):  # keep test output quiet
        pass

    @property
    def worker(self) -> FakeWorker:
        return self.server.worker  # type: ignore[attr-defined]

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def do_PUT(self):
        self._dispatch()

    def do_DELETE(self):
        self._dispatch()

    # ----- plumbing -----

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, status: int, body: Any, content_type: str = "application/json") -> None:
        if isinstance(body, bytes):
            data = body
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Worker", self.worker.name)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("X-Worker", self.worker.name)
        self.end_headers()

    def _event(self, payload: Any) -> None:
        """One SSE event as one HTTP chunk, flushed."""
        text = payload if isinstance(payload, str) else json.dumps(payload)
        data = f"data: {text}\n\n".encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _end_stream(self) -> None:
        self._event("[DONE]")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        body = self._read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.worker._record(RecordedRequest(self.command, parts.path, parse_qs(parts.query), headers, body))
        route = _ROUTES.get(parts.path)
        if route is None:
            self._send(404, {"error": {"message": f"no route {parts.path}", "code": 404}})
            return
        try:
            route(self, body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client (router) went away mid-answer

    # ----- routes -----

    def _health(self, body: bytes) -> None:
        if self.worker.knobs.healthy:
            self._send(200, b"", "text/plain")
        else:
            self._send(503, {"error": "unhealthy", "worker": self.worker.name})

    def _generation(self, body: bytes) -> None:
        w = self.worker
        try:
            req = json.loads(body) if body else {}
        except ValueError:
            self._send(400, {"error": {"message": "body is not JSON", "worker": w.name}})
            return
        if not isinstance(req, dict):
            req = {}
        if w.knobs.delay:
            time.sleep(w.knobs.delay)
        status = w._take_failure()
        if status:
            self._send(status, {"error": {"message": "injected failure", "code": status}, "worker": w.name})
            return
        path = urlsplit(self.path).path
        # Counted before the last byte goes out, so a client that has its answer sees the count.
        if req.get("stream"):
            self._start_stream()
            _STREAMERS[path](self, req)
            w._count_served()
            self._end_stream()
        else:
            answer = _ANSWERS[path](w, req)
            w._count_served()
            self._send(200, answer)

    def _stream_generate(self, req: Dict[str, Any]) -> None:
        w, text = self.worker, ""
        for i in range(w.knobs.stream_events):
            text += f"tok{i} "
            self._event({"text": text, "worker": w.name,
                         "meta_info": _meta_info(w, req, completion_tokens=i + 1)})
            self._pause()

    def _stream_chat(self, req: Dict[str, Any]) -> None:
        w = self.worker
        base = {"id": f"chatcmpl-{w.name}", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": req.get("model") or w.model, "worker": w.name}
        self._event({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                          "finish_reason": None}]})
        for i in range(w.knobs.stream_events):
            self._event({**base, "choices": [{"index": 0, "delta": {"content": f"tok{i} "},
                                              "finish_reason": None}]})
            self._pause()
        self._event({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})

    def _stream_completion(self, req: Dict[str, Any]) -> None:
        w = self.worker
        base = {"id": f"cmpl-{w.name}", "object": "text_completion", "created": int(time.time()),
                "model": req.get("model") or w.model, "worker": w.name}
        for i in range(w.knobs.stream_events):
            self._event({**base, "choices": [{"index": 0, "text": f"tok{i} ", "finish_reason": None}]})
            self._pause()
        self._event({**base, "choices": [{"index": 0, "text": "", "finish_reason": "stop"}]})

    def _pause(self) -> None:
        if self.worker.knobs.delay:
            time.sleep(self.worker.knobs.delay)

    def _models(self, body: bytes) -> None:
        w = self.worker
        self._send(200, {"object": "list", "data": [
            {"id": w.model, "object": "model", "created": 0, "owned_by": "sglang", "worker": w.name}]})

    def _model_info(self, body: bytes) -> None:
        w = self.worker
        self._send(200, {"model_path": w.model, "tokenizer_path": w.model, "is_generation": True,
                         "worker": w.name})

    def _server_info(self, body: bytes) -> None:
        w = self.worker
        self._send(200, {"model_path": w.model, "port": w.port, "worker": w.name, **w.knobs.extra})

    def _flush_cache(self, body: bytes) -> None:
        self._send(200, b"Cache flushed.\n", "text/plain")

    def _get_load(self, body: bytes) -> None:
        w = self.worker
        n = w.knobs.load
        self._send(200, {"load": n, "num_reqs": n, "num_waiting_reqs": 0, "num_tokens": 0,
                         "worker": w.name})


def _meta_info(w: FakeWorker, req: Dict[str, Any], completion_tokens: int) -> Dict[str, Any]:
    meta: Dict[str, Any] = {"id": req.get("rid") or uuid.uuid4().hex, "prompt_tokens": 5,
                            "completion_tokens": completion_tokens,
                            "finish_reason": {"type": "length", "length": completion_tokens}}
    if req.get("return_logprob"):
        # Tagged with the worker's name so PD tests can see whose logprobs they got.
        meta["input_token_logprobs"] = [[-0.5, i, w.name] for i in range(2)]
        meta["output_token_logprobs"] = [[-0.1, 100 + i, w.name] for i in range(completion_tokens)]
    return meta


def _answer_generate(w: FakeWorker, req: Dict[str, Any]) -> Dict[str, Any]:
    n = w.knobs.stream_events
    return {"text": f"hello from {w.name}", "worker": w.name, "request": req,
            "meta_info": _meta_info(w, req, completion_tokens=n)}


def _answer_chat(w: FakeWorker, req: Dict[str, Any]) -> Dict[str, Any]:
    return {"id": f"chatcmpl-{w.name}", "object": "chat.completion", "created": int(time.time()),
            "model": req.get("model") or w.model, "worker": w.name, "request": req,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": f"hello from {w.name}"},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}}


def _answer_completion(w: FakeWorker, req: Dict[str, Any]) -> Dict[str, Any]:
    return {"id": f"cmpl-{w.name}", "object": "text_completion", "created": int(time.time()),
            "model": req.get("model") or w.model, "worker": w.name, "request": req,
            "choices": [{"index": 0, "text": f"hello from {w.name}", "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}}


_ROUTES = {
    "/health": _Handler._health,
    "/health_generate": _Handler._health,
    "/generate": _Handler._generation,
    "/v1/chat/completions": _Handler._generation,
    "/v1/completions": _Handler._generation,
    "/v1/models": _Handler._models,
    "/get_model_info": _Handler._model_info,
    "/get_server_info": _Handler._server_info,
    "/flush_cache": _Handler._flush_cache,
    "/get_load": _Handler._get_load,
}
_ANSWERS = {
    "/generate": _answer_generate,
    "/v1/chat/completions": _answer_chat,
    "/v1/completions": _answer_completion,
}
_STREAMERS = {
    "/generate": _Handler._stream_generate,
    "/v1/chat/completions": _Handler._stream_chat,
    "/v1/completions": _Handler._stream_completion,
}
