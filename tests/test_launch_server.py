"""launch_server: SGLang servers + router in one command, with a stand-in `sglang` package."""

import importlib.util
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from helpers import get_json, http, pick_free_port, post_json, wait_until

import sglang_router
from sglang_router.launch_server import SGLANG_MISSING, find_free_ports

IMPORT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(sglang_router.__file__)))
TESTS_DIR = os.path.dirname(os.path.abspath(__file__))

# A stand-in for the parts of sglang that launch_server uses: ServerArgs.add_cli_args
# and `python -m sglang.launch_server`, which here serves a FakeWorker named gpu<base-gpu-id>.
FAKE_SGLANG = {
    "sglang/__init__.py": "",
    "sglang/srt/__init__.py": "",
    "sglang/srt/server_args.py": '''
        class ServerArgs:
            @staticmethod
            def add_cli_args(parser):
                parser.add_argument("--model-path", required=True)
                parser.add_argument("--host", default="127.0.0.1")
                parser.add_argument("--port", type=int, default=30000)
                parser.add_argument("--data-parallel-size", "--dp-size", dest="dp_size", type=int, default=1)
                parser.add_argument("--tensor-parallel-size", "--tp-size", dest="tp_size", type=int, default=1)
                parser.add_argument("--base-gpu-id", type=int, default=0)
        ''',
    "sglang/launch_server.py": '''
        import argparse, signal, sys, time
        from sglang.srt.server_args import ServerArgs
        from fake_worker import FakeWorker

        parser = argparse.ArgumentParser()
        ServerArgs.add_cli_args(parser)
        args = parser.parse_args()
        if args.model_path == "crash":
            sys.exit(3)
        w = FakeWorker(f"gpu{args.base_gpu_id}", host=args.host, port=args.port).start()
        signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
        while True:
            time.sleep(1)
        ''',
}


@pytest.fixture
def fake_sglang(tmp_path):
    for rel, text in FAKE_SGLANG.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return tmp_path


def _env(*paths):
    return dict(os.environ, PYTHONPATH=os.pathsep.join([*map(str, paths), os.environ.get("PYTHONPATH", "")]))


def _reset_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_find_free_ports_skips_taken_ones():
    import socket

    base = pick_free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", base))
        s.listen()
        ports = find_free_ports(base, 2)
    assert base not in ports and len(set(ports)) == 2 and min(ports) > base


def test_find_free_ports_leaves_the_routers_port():
    # The router binds its port after the servers start, so that port looks
    # free; a server must not take it (the router would then refuse the
    # server as its own address).
    base = pick_free_port()
    assert find_free_ports(base, 2, skip=[base, base + 1]) == find_free_ports(base + 2, 2)


@pytest.mark.skipif(importlib.util.find_spec("sglang") is not None, reason="sglang is installed")
def test_without_sglang_says_what_to_install(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "sglang_router.launch_server", "--model-path", "m", "--dp-size", "2"],
        cwd=tmp_path, env=_env(IMPORT_ROOT), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "pip install" in proc.stderr and "sglang" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert SGLANG_MISSING.splitlines()[0] in proc.stderr


@pytest.mark.native
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_servers_and_router_start_and_stop_together(fake_sglang, tmp_path, sig):
    port, metrics, base = pick_free_port(), pick_free_port(), pick_free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sglang_router.launch_server", "--model-path", "m", "--dp-size", "2",
         "--tp-size", "2", "--port", str(port), "--router-policy", "round_robin",
         "--router-prometheus-port", str(metrics), "--router-dp-worker-base-port", str(base),
         "--router-worker-startup-check-interval", "1"],
        cwd=tmp_path, env=_env(fake_sglang, TESTS_DIR, IMPORT_ROOT), preexec_fn=_reset_sigint,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    router = f"http://127.0.0.1:{port}"
    try:
        ready = wait_until(lambda: _status(router + "/readiness") == 200 and
                           get_json(router + "/readiness")[1].get("healthy_workers") == 2, timeout=20)
        assert ready, _output(proc)
        answered = {post_json(router + "/generate", {"text": "x"})[1]["worker"] for _ in range(4)}
        assert answered == {"gpu0", "gpu2"}  # base GPU ids step by tp size
        workers = get_json(router + "/list_workers")[1]["urls"]
        assert len(workers) == 2 and all(int(u.rsplit(":", 1)[1]) >= base for u in workers)

        t0 = time.monotonic()
        proc.send_signal(sig)
        assert proc.wait(timeout=15) == 0, _output(proc)
        assert time.monotonic() - t0 < 8
        for url in workers:  # every server is gone too
            assert wait_until(lambda url=url: _status(url + "/health") is None, timeout=5), url
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.native
def test_router_stops_when_every_server_died(fake_sglang, tmp_path):
    port, metrics, base = pick_free_port(), pick_free_port(), pick_free_port()
    proc = subprocess.run(
        [sys.executable, "-m", "sglang_router.launch_server", "--model-path", "crash", "--dp-size", "2",
         "--port", str(port), "--router-prometheus-port", str(metrics),
         "--router-dp-worker-base-port", str(base)],
        cwd=tmp_path, env=_env(fake_sglang, TESTS_DIR, IMPORT_ROOT), capture_output=True, text=True,
        timeout=60)
    assert proc.returncode == 1
    assert "every server exited" in proc.stderr


def _status(url):
    try:
        return http("GET", url, timeout=1)[0]
    except OSError:
        return None


def _output(proc):
    if proc.poll() is None:
        return "still running"
    return proc.stdout.read().decode(errors="replace")


@pytest.mark.native
def test_simulate_starts_simulated_servers_and_the_router():
    port = pick_free_port()
    cmd = [sys.executable, "-m", "sglang_router.launch_server", "--simulate", "--dp-size", "2",
           "--port", str(port), "--time-scale", "0", "--router-policy", "round_robin",
           "--router-prometheus-port", str(pick_free_port()), "--router-worker-startup-check-interval", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_until(lambda: _healthy_workers(base) == 2, timeout=20), "router never became ready"
        for i in range(4):
            status, body = post_json(base + "/generate", {"text": f"hi {i}", "sampling_params": {"max_new_tokens": 2}})
            assert status == 200, body
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _healthy_workers(base: str) -> int:
    try:
        status, body = get_json(base + "/readiness", timeout=1)
    except OSError:
        return 0
    return body.get("healthy_workers", 0) if isinstance(body, dict) else 0
