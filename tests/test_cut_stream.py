"""A stream the worker cuts mid-way reaches the official openai client as an
error it raises, not as a short answer that looks complete."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import openai
import pytest
import requests

from helpers import wait_until
from sglang_router import Router

pytestmark = pytest.mark.native


class _CuttingWorker(BaseHTTPRequestHandler):
    """Healthy; answers a streamed chat completion with two chunks, then
    drops the connection as a crashing worker would."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for i in range(2):
            chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
                     "choices": [{"index": 0, "delta": {"content": f"tok{i} "}, "finish_reason": None}]}
            event = f"data: {json.dumps(chunk)}\n\n".encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
            self.wfile.flush()
        self.close_connection = True  # no terminating chunk: the stream is cut


@pytest.fixture
def cutting_worker():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CuttingWorker)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_openai_client_raises_on_a_cut_stream(cutting_worker, free_port):
    # The cutting worker answers nothing but the stream it cuts, so its model is given.
    router = Router(worker_urls=[cutting_worker], port=free_port(), prometheus_port=free_port(),
                    worker_startup_check_interval=1, worker_models={cutting_worker: "m"})
    with router.serve_in_background() as r:
        assert wait_until(lambda: requests.get(r.url + "/readiness", timeout=1).status_code == 200, timeout=15)
        client = openai.OpenAI(base_url=r.url + "/v1", api_key="unused", max_retries=0)
        got = []
        with pytest.raises(openai.APIError) as err:
            for chunk in client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}],
                                                        stream=True):
                got.append(chunk.choices[0].delta.content)
        assert got == ["tok0 ", "tok1 "]
        assert "worker unavailable" in str(err.value) and "request id" in str(err.value)
        assert cutting_worker.split("//")[1] not in str(err.value)
