"""End to end: the router started through the real CLI and the real Router
class, in front of simulated SGLang servers and fake workers, driven with
real HTTP and the official openai client."""

import json
import os
import signal
import subprocess
import sys
import time

import openai
import pytest
import requests

from helpers import wait_until
from sglang_router import Router
from sglang_router.simulate import Simulator

pytestmark = pytest.mark.native


@pytest.fixture
def sim():
    """Factory of simulated clusters (instant answers), stopped after the test."""
    started = []

    def make(**config):
        s = Simulator(time_scale=0, **config).serve_in_background()
        started.append(s)
        return s

    yield make
    for s in started:
        s.stop()


def _ready(base: str, timeout: float = 15) -> None:
    """Wait until every configured worker is healthy: the router is ready
    with one, and a test that counts requests per worker needs them all."""
    def ok():
        try:
            resp = requests.get(base + "/readiness", timeout=1)
        except requests.ConnectionError:
            return False
        body = resp.json() if resp.status_code == 200 else {}
        return body.get("total_workers", 0) > 0 and body.get("healthy_workers") == body.get("total_workers")
    assert wait_until(ok, timeout=timeout), f"router at {base} never had every worker healthy"


@pytest.fixture
def cli_router(free_port):
    """Start `python -m sglang_router.launch_router ARGS`; yields (base_url, process)."""
    procs = []

    def start(*args):
        port = free_port()
        cmd = [sys.executable, "-m", "sglang_router.launch_router", "--port", str(port),
               "--prometheus-port", str(free_port()), "--worker-startup-check-interval", "1", *args]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        _ready(base)
        return base, proc

    yield start
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait()


def test_cli_routes_round_robin_and_streams_to_the_openai_client(sim, cli_router):
    cluster = sim(workers=2)
    base, proc = cli_router("--worker-urls", *cluster.urls, "--policy", "round_robin")

    for i in range(4):
        r = requests.post(base + "/generate", json={"text": f"hello {i}", "sampling_params": {"max_new_tokens": 3}})
        assert r.status_code == 200, r.text
        assert r.json()["meta_info"]["completion_tokens"] == 3
        assert r.headers["x-request-id"]
    assert [s["requests"] for s in cluster.stats()] == [2, 2]

    client = openai.OpenAI(base_url=base + "/v1", api_key="unused")
    chunks = list(client.chat.completions.create(
        model="sim-model", messages=[{"role": "user", "content": "Tell me a story"}],
        max_tokens=8, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len(text.split()) == 8
    assert chunks[-1].choices[0].finish_reason == "length" or chunks[-2].choices[0].finish_reason == "length"

    reply = client.chat.completions.create(model="sim-model", max_tokens=4,
                                           messages=[{"role": "user", "content": "hi"}])
    assert reply.usage.completion_tokens == 4
    assert [m.id for m in client.models.list()] == ["sim-model"]

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=5) == 0


def test_cli_pd_mode_sends_one_room_to_both_sides(sim, cli_router):
    prefill, decode = sim(workers=1, role="prefill"), sim(workers=1, role="decode")
    base, _ = cli_router("--pd-disaggregation", "--policy", "round_robin",
                         "--prefill", prefill.urls[0], str(prefill.bootstrap_ports[0]),
                         "--decode", decode.urls[0])
    # The simulated decode server fails unless the prefill server saw the same room.
    r = requests.post(base + "/generate", json={"text": ["a b", "c d"], "sampling_params": {"max_new_tokens": 2}})
    assert r.status_code == 200, r.text
    assert len(r.json()) == 2
    assert prefill.stats()[0]["rooms"] == 2


def test_router_class_add_remove_and_a_worker_killed_mid_run(fake_worker, free_port):
    w1, w2, w3 = fake_worker("w1"), fake_worker("w2"), fake_worker("w3")
    router = Router(worker_urls=[w1.url, w2.url], port=free_port(), prometheus_port=free_port(),
                    worker_startup_check_interval=1)
    with router.serve_in_background() as r:
        base = r.url
        _ready(base)
        assert r.list_workers()["urls"] == [w1.url, w2.url]

        assert requests.post(f"{base}/add_worker?url={w3.url}").status_code == 200
        assert requests.post(f"{base}/remove_worker?url={w1.url}").status_code == 200
        assert requests.get(base + "/list_workers").json()["urls"] == [w2.url, w3.url]
        before = w1.count("/generate")
        for i in range(6):
            assert requests.post(base + "/generate", json={"text": str(i)}).status_code == 200
        assert w1.count("/generate") == before
        assert w2.count("/generate") == 3 and w3.count("/generate") == 3



def test_a_worker_killed_mid_run_is_routed_around(sim, free_port):
    a, b = sim(workers=1), sim(workers=1)
    with Router(worker_urls=[a.urls[0], b.urls[0]], port=free_port(), prometheus_port=free_port(),
                worker_startup_check_interval=1).serve_in_background() as r:
        _ready(r.url)
        for i in range(4):
            assert requests.post(r.url + "/generate", json={"text": str(i)}).status_code == 200
        assert a.stats()[0]["requests"] == 2 and b.stats()[0]["requests"] == 2
        a.stop()  # its listener and connections close, as when the process dies
        for i in range(6):
            resp = requests.post(r.url + "/generate", json={"text": str(i)})
            assert resp.status_code == 200, resp.text
        assert b.stats()[0]["requests"] == 8


def test_bad_input_gets_json_errors_and_the_router_keeps_serving(sim, free_port):
    w = sim(workers=1)
    with Router(worker_urls=w.urls, port=free_port(), prometheus_port=free_port(),
                max_payload_size=1024, worker_startup_check_interval=1).serve_in_background() as r:
        base = r.url
        _ready(base)
        cases = [
            ("POST", "/generate", b'{"text": ', 400),
            ("POST", "/v1/chat/completions", b"[1, 2]", 400),
            ("POST", "/generate", json.dumps({"text": "x" * 2000}).encode(), 413),
            ("GET", "/no/such/path", None, 404),
        ]
        for method, path, body, status in cases:
            resp = requests.request(method, base + path, data=body)
            assert resp.status_code == status, (path, resp.text)
            assert resp.json()["error"]["code"] == status
        w.stop()  # the only worker dies: unreachable after retries
        resp = requests.post(base + "/generate", json={"text": "hi"})
        assert resp.status_code in (502, 503), resp.text
        assert resp.json()["error"]["code"] == resp.status_code
        assert requests.get(base + "/liveness").status_code == 200


def test_client_disconnect_mid_stream_frees_the_worker(fake_worker, free_port):
    w = fake_worker("slow", stream_events=200, delay=0.02)
    with Router(worker_urls=[w.url], port=free_port(), prometheus_port=free_port(),
                worker_startup_check_interval=1).serve_in_background() as r:
        _ready(r.url)
        resp = requests.post(r.url + "/v1/chat/completions", stream=True, timeout=10,
                             json={"messages": [{"role": "user", "content": "hi"}], "stream": True})
        lines = resp.iter_lines()
        assert next(lines).startswith(b"data: ")
        resp.close()  # the client goes away mid-stream

        def idle():
            loads = requests.get(r.url + "/readiness").json()
            return loads["healthy_workers"] == 1 and _in_flight(r) == 0
        assert wait_until(idle, timeout=5)


def _in_flight(router) -> float:
    """sgl_router_running_requests summed over workers, from /metrics."""
    text = requests.get(f"http://{router.metrics_address}/metrics").text
    total = 0.0
    for line in text.splitlines():
        if line.startswith("sgl_router_running_requests{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_simulate_cli_prints_urls_and_stops_on_sigint():
    proc = subprocess.Popen([sys.executable, "-m", "sglang_router.simulate", "--workers", "2", "--time-scale", "0"],
                            stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    try:
        urls = [proc.stdout.readline().split(": ", 1)[1].strip() for _ in range(2)]
        assert requests.get(urls[1] + "/health", timeout=5).status_code == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    time.sleep(0.1)
