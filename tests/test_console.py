"""What a person at a terminal meets: the sglang-router command and its
subcommands, --help, Ctrl-C while requests are in flight, --json-log, and
launch_server --simulate with the SGLang command line it stands in for."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading

import pytest
from helpers import get_json, http, pick_free_port, wait_until

pytestmark = pytest.mark.native

BIN_DIR = os.path.dirname(sys.executable)


def script(name):
    return os.path.join(BIN_DIR, name)


def _reset_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Lines:
    """Collects a process's stderr lines on a thread, for waiting on one."""

    def __init__(self, stream):
        self.lines, self._lock = [], threading.Lock()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for line in stream:
            with self._lock:
                self.lines.append(line.rstrip("\n"))

    def has(self, text):
        with self._lock:
            return any(text in line for line in self.lines)

    def all(self):
        with self._lock:
            return list(self.lines)


def _stop(proc):
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def _ready(url, n=1):
    try:
        status, body = get_json(url + "/readiness", timeout=1)
    except OSError:
        return False
    return status == 200 and body.get("healthy_workers", 0) >= n


# ----- one command, the binary's subcommands -----


def test_help_is_the_binarys_with_subcommands_and_examples():
    out = subprocess.run([script("sglang-router"), "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    for want in ("sim ", "demo ", "bench-routing ", "bench ", "launch ", "server ", "examples:",
                 "--worker-urls", "(default: 30000)"):
        assert want in out.stdout
    binary = os.environ.get("SGLANG_ROUTER_BIN")
    if binary and os.path.exists(binary):
        same = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=60)
        assert same.stdout == out.stdout


def test_python_m_sglang_router_and_version():
    out = subprocess.run([sys.executable, "-m", "sglang_router", "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.startswith("sglang-router ")


def test_launch_router_help_has_one_default_per_flag_and_examples():
    out = subprocess.run([sys.executable, "-m", "sglang_router.launch_router", "--help"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "examples:" in out.stdout
    text = " ".join(out.stdout.split())  # argparse wraps help lines
    assert "(default: cache_aware)" in text
    for chunk in text.split(" --"):
        assert chunk.count("(default:") <= 1, chunk[:120]


def test_sim_subcommand_runs_in_process_and_stops_on_ctrl_c():
    proc = subprocess.Popen([script("sglang-router"), "sim", "-workers", "1", "-time-scale", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_reset_sigint)
    try:
        line = proc.stdout.readline()
        assert line.startswith("simulated regular server 0: http://"), line
        url = line.split(": ", 1)[1].strip()
        assert http("GET", url + "/health")[0] == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        _stop(proc)


SIGNAL_AT_START = textwrap.dedent('''
    import os, signal, sys
    from sglang_router import _native, cli
    real_start = _native.cli_start
    def start_then_signal(argv):
        handle = real_start(argv)
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C the moment the command has started
        return handle
    _native.cli_start = start_then_signal
    sys.exit(cli.run_go(["sim", "-workers", "1", "-time-scale", "0"]))
''')


def test_ctrl_c_while_a_go_command_starts_stops_it_cleanly(tmp_path):
    # A Ctrl-C that lands while the command is starting (it may have printed
    # its address already) once escaped as KeyboardInterrupt: exit by signal.
    path = tmp_path / "signal_at_start.py"
    path.write_text(SIGNAL_AT_START)
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=60,
                         preexec_fn=_reset_sigint)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("simulated regular server 0: http://"), out.stdout


def test_server_subcommand_is_launch_server(tmp_path):
    out = subprocess.run([script("sglang-router"), "server", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "--router-dp-worker-base-port" in out.stdout


# ----- Ctrl-C in a script that called Router.start() -----

START_SCRIPT = textwrap.dedent('''
    import sys
    from sglang_router import Router
    url, port, metrics = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    Router(worker_urls=[url], port=port, prometheus_port=metrics, worker_startup_check_interval=1,
           shutdown_grace_period_secs=600).start()
    print("start() returned", flush=True)
''')


def test_ctrl_c_says_what_it_waits_for_and_a_second_one_stops_now(tmp_path, fake_worker):
    w = fake_worker("slow", delay=600)
    port, metrics = pick_free_port(), pick_free_port()
    path = tmp_path / "serve.py"
    path.write_text(START_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(path), w.url, str(port), str(metrics)], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_reset_sigint)
    base = f"http://127.0.0.1:{port}"
    try:
        err = Lines(proc.stderr)
        assert wait_until(lambda: _ready(base), timeout=30), err.all()
        threading.Thread(target=_post_ignoring_errors, args=(base,), daemon=True).start()
        assert wait_until(lambda: w.count("/generate") == 1, timeout=30)
        proc.send_signal(signal.SIGINT)
        want = "stopping: waiting up to 600s for 1 in-flight request; press Ctrl-C again to stop now"
        assert wait_until(lambda: err.has(want), timeout=30), err.all()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0  # well before the 600 s grace period
        assert "start() returned" in proc.stdout.read()
    finally:
        _stop(proc)


def _post_ignoring_errors(base):
    try:
        http("POST", base + "/generate", {"text": "x"}, timeout=700)
    except OSError:
        pass


# ----- --json-log: every line is JSON, Python's too -----


def test_json_log_makes_every_line_json(fake_worker):
    w = fake_worker("w0")
    port, metrics = pick_free_port(), pick_free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sglang_router.launch_router", "--worker-urls", w.url,
                             "--port", str(port), "--prometheus-port", str(metrics), "--json-log",
                             "--worker-startup-check-interval", "1", "--model-path", "org/m"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_reset_sigint)
    try:
        err = Lines(proc.stderr)
        assert wait_until(lambda: _ready(f"http://127.0.0.1:{port}"), timeout=30), err.all()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
        assert wait_until(lambda: err.has("router stopped"), timeout=10)
        entries = [json.loads(line) for line in err.all() if line.strip()]  # raises on a plain line
        loggers = {e.get("logger", "") for e in entries}
        assert any(name.startswith("sglang_router") for name in loggers), loggers  # Python's own
        assert any("router listening" in e["msg"] for e in entries)  # Go's
        assert all({"level", "ts", "msg"} <= set(e) for e in entries)
    finally:
        _stop(proc)


# ----- launch_server --simulate takes the SGLang command it stands in for -----


def test_simulate_accepts_the_sglang_flags_it_replaces():
    port = pick_free_port()
    cmd = [sys.executable, "-m", "sglang_router.launch_server", "--simulate", "--model-path", "org/model-7b",
           "--tp-size", "2", "--mem-fraction-static", "0.8", "--trust-remote-code", "--dp-size", "2",
           "--port", str(port), "--time-scale", "0", "--router-prometheus-port", str(pick_free_port()),
           "--router-worker-startup-check-interval", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, preexec_fn=_reset_sigint)
    base = f"http://127.0.0.1:{port}"
    try:
        err = Lines(proc.stderr)
        assert wait_until(lambda: _ready(base, 2), timeout=30), err.all()
        status, models = get_json(base + "/v1/models")
        assert status == 200 and models["data"][0]["id"] == "org/model-7b"
        assert err.has("ignore these SGLang arguments: --tp-size 2 --mem-fraction-static 0.8 --trust-remote-code")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        assert not any(" ERROR " in line for line in err.all()), err.all()
    finally:
        _stop(proc)


def test_simulate_with_dp_attention_serves_ranks_behind_a_dp_aware_router():
    port = pick_free_port()
    cmd = [sys.executable, "-m", "sglang_router.launch_server", "--simulate", "--model-path", "m",
           "--dp-size", "3", "--enable-dp-attention", "--router-dp-aware",
           "--port", str(port), "--time-scale", "0", "--router-prometheus-port", str(pick_free_port()),
           "--router-worker-startup-check-interval", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, preexec_fn=_reset_sigint)
    base = f"http://127.0.0.1:{port}"
    try:
        err = Lines(proc.stderr)
        assert wait_until(lambda: _ready(base, 3), timeout=30), err.all()
        status, workers = get_json(base + "/list_workers")
        assert status == 200 and sorted(u.rsplit("@", 1)[1] for u in workers["urls"]) == ["0", "1", "2"], workers
        assert len({u.rsplit("@", 1)[0] for u in workers["urls"]}) == 1, workers
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        _stop(proc)
