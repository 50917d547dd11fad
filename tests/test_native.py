"""Router through the Go library: lifecycle, errors, management calls, signals."""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from helpers import get_json, http, pick_free_port, post_json, wait_until

import sglang_router
from sglang_router import Router, _native
from sglang_router.launch_router import RouterArgs, launch_router, main

pytestmark = pytest.mark.native

# Where the sglang_router under test was imported from (source tree or site-packages);
# subprocesses must import the same one.
IMPORT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(sglang_router.__file__)))


def make_router(free_port, workers=(), **kw) -> Router:
    """A router on free ports (router and metrics), quick health checks."""
    kw.setdefault("port", free_port())
    kw.setdefault("prometheus_port", free_port())
    kw.setdefault("worker_startup_check_interval", 1)
    return Router(worker_urls=[w if isinstance(w, str) else w.url for w in workers], **kw)


def refused(url: str) -> bool:
    try:
        http("GET", url + "/liveness", timeout=1)
        return False
    except OSError:
        return True


def test_library_version():
    assert _native.version()


def test_background_router_serves_and_stops(free_port, fake_worker):
    w = fake_worker("w1")
    r = make_router(free_port, [w])
    with r.serve_in_background() as running:
        assert running is r and r.running
        assert r.url == f"http://127.0.0.1:{r.config['port']}"
        assert r.metrics_address.endswith(f":{r.config['prometheus_port']}")
        assert wait_until(lambda: get_json(r.url + "/readiness")[0] == 200)
        status, body = post_json(r.url + "/generate", {"text": "hello"})
        assert status == 200 and body["worker"] == "w1"
        assert r.list_workers() == {"urls": [w.url]}
        url = r.url
    assert not r.running and r.url is None
    assert refused(url)


def test_context_manager_starts_router(free_port, fake_worker):
    w = fake_worker()
    with make_router(free_port, [w]) as r:
        assert r.running
        assert http("GET", r.url + "/liveness")[0] == 200
    assert not r.running


def test_router_can_start_again_after_stop(free_port, fake_worker):
    w = fake_worker()
    r = make_router(free_port, [w])
    for _ in range(2):
        r.serve_in_background()
        assert http("GET", r.url + "/liveness")[0] == 200
        r.stop()


def test_starting_twice_is_an_error(free_port, fake_worker):
    with make_router(free_port, [fake_worker()]) as r:
        with pytest.raises(RuntimeError, match="already running"):
            r.serve_in_background()


def test_two_routers_side_by_side(free_port, fake_worker):
    a, b = fake_worker("a"), fake_worker("b")
    with make_router(free_port, [a]) as ra, make_router(free_port, [b]) as rb:
        assert ra.address != rb.address
        for r, name in ((ra, "a"), (rb, "b")):
            assert wait_until(lambda r=r: get_json(r.url + "/readiness")[0] == 200)
            assert post_json(r.url + "/generate", {"text": "x"})[1]["worker"] == name
        ra.stop()
        assert post_json(rb.url + "/generate", {"text": "x"})[1]["worker"] == "b"


def test_no_healthy_worker_in_time_is_a_runtime_error_naming_the_url(free_port):
    dead = f"http://127.0.0.1:{free_port()}"
    r = make_router(free_port, [dead], worker_startup_timeout_secs=1)
    t0 = time.monotonic()
    with pytest.raises(RuntimeError, match=dead.replace(".", r"\.")) as e:
        r.start()
    assert not isinstance(e.value, ValueError)
    assert time.monotonic() - t0 < 10
    assert not r.running


def test_background_failure_surfaces_in_wait(free_port):
    dead = f"http://127.0.0.1:{free_port()}"
    with make_router(free_port, [dead], worker_startup_timeout_secs=1) as r:
        with pytest.raises(RuntimeError, match="127.0.0.1"):
            r.wait(timeout=10)


def test_wait_times_out_while_running(free_port, fake_worker):
    with make_router(free_port, [fake_worker()]) as r:
        t0 = time.monotonic()
        assert r.wait(timeout=0.3) is False
        assert 0.25 < time.monotonic() - t0 < 2


def test_port_in_use_is_a_runtime_error(free_port, fake_worker):
    w = fake_worker()
    with make_router(free_port, [w]) as first:
        second = make_router(free_port, [w], port=first.config["port"])
        with pytest.raises(RuntimeError) as e:
            second.serve_in_background()
        assert not isinstance(e.value, ValueError)
        assert not second.running


def test_blocking_start_returns_when_stopped_from_another_thread(free_port, fake_worker):
    r = make_router(free_port, [fake_worker()])
    threading.Thread(target=lambda: wait_until(lambda: r.running) and r.stop(), daemon=True).start()
    t0 = time.monotonic()
    r.start()
    assert time.monotonic() - t0 < 5 and not r.running


# (keywords, a fragment the ValueError names)
INVALID = [
    ({"cache_threshold": 2}, "cache_threshold"),
    ({"balance_rel_threshold": 0.5}, "balance_rel_threshold"),
    ({"max_payload_size": 0}, "max_payload_size"),
    ({"max_answer_insert_bytes": -1}, "max_answer_insert_bytes: -1 must be between 0 (off) and 67108864"),
    ({"max_answer_insert_bytes": 64 * 1024 * 1024 + 1}, "max_answer_insert_bytes"),
    ({"policy": "fastest"}, "policy"),
    ({"log_level": "loud"}, "log_level"),
    ({"worker_urls": ["ftp://x:1"]}, "worker_urls"),
    ({"worker_urls": ["http://"]}, "worker_urls"),
    ({"pd_disaggregation": True, "decode_urls": ["http://d:1"]},
     "PD disaggregation mode requires --prefill"),
    ({"pd_disaggregation": True, "prefill_urls": [("http://p:1", None)]},
     "PD disaggregation mode requires --decode"),
    ({"pd_disaggregation": True, "prefill_urls": [("http://p:1", 0)], "decode_urls": ["http://d:1"]},
     "Invalid bootstrap port: 0. Must be a number or 'none'"),
    ({"policy": "power_of_two", "worker_urls": ["http://a:1"]},
     "Power-of-two policy requires at least 2 workers"),
]


@pytest.mark.parametrize("kw,fragment", INVALID, ids=[f for _, f in INVALID])
def test_invalid_config_is_a_value_error_naming_the_field(free_port, kw, fragment):
    kw = dict(kw)
    urls = kw.pop("worker_urls", ["http://127.0.0.1:1"] if not kw.get("pd_disaggregation") else [])
    r = make_router(free_port, urls, **kw)
    with pytest.raises(ValueError) as e:
        r.start()
    assert fragment in str(e.value)
    assert not r.running


def test_launch_router_raises_value_error_for_pd_without_prefill(free_port):
    args = RouterArgs(pd_disaggregation=True, decode_urls=["http://d:1"],
                      port=free_port(), prometheus_port=free_port())
    with pytest.raises(ValueError, match="PD disaggregation mode requires --prefill"):
        launch_router(args)


def test_cli_main_reports_go_validation_errors(capsys, free_port):
    with pytest.raises(SystemExit) as e:
        main(["--policy", "power_of_two", "--worker-urls", "http://a:1",
              "--port", str(free_port()), "--prometheus-port", str(free_port())])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "Power-of-two policy requires at least 2 workers" in err and "Traceback" not in err


def test_add_list_remove_workers(free_port, fake_worker):
    a, b = fake_worker("a"), fake_worker("b")
    with make_router(free_port, [a]) as r:
        r.add_worker(b.url)
        assert sorted(r.list_workers()["urls"]) == sorted([a.url, b.url])
        r.remove_worker(a.url)
        assert r.list_workers() == {"urls": [b.url]}
        assert post_json(r.url + "/generate", {"text": "x"})[1]["worker"] == "b"


def test_adding_a_present_worker_is_an_error(free_port, fake_worker):
    a = fake_worker("a")
    with make_router(free_port, [a]) as r:
        with pytest.raises(RuntimeError):
            r.add_worker(a.url)


def test_management_call_errors(free_port, fake_worker):
    with make_router(free_port, [fake_worker()]) as r:
        with pytest.raises(ValueError, match="ftp://x"):
            r.add_worker("ftp://x:1")
        with pytest.raises(ValueError, match="role"):
            r.add_worker("http://127.0.0.1:1", role="middle")
        with pytest.raises(RuntimeError) as e:
            r.remove_worker("http://127.0.0.1:1")
        assert not isinstance(e.value, ValueError)


def test_pd_mode_workers(free_port, fake_worker):
    p, d, d2 = fake_worker("p"), fake_worker("d"), fake_worker("d2")
    r = make_router(free_port, pd_disaggregation=True, prefill_urls=[(p.url, 9000)], decode_urls=[d.url])
    with r:
        assert r.info()["mode"] == "pd"
        r.add_worker(d2.url, role="decode")
        workers = r.list_workers()
        assert workers["prefill"] == [p.url]
        assert sorted(workers["decode"]) == sorted([d.url, d2.url])


def test_info_describes_the_running_router(free_port, fake_worker):
    with make_router(free_port, [fake_worker()], policy="cache_aware") as r:
        info = r.info()
        assert info["address"] == r.address and info["policy"] == "cache_aware"


# ----- the CLI process and signals -----


def _reset_sigint():
    # A runner started in the background may ignore SIGINT; the child must not inherit that.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_cli_process_stops_cleanly_on_signal(fake_worker, sig, tmp_path):
    w = fake_worker()
    port, metrics = pick_free_port(), pick_free_port()
    env = dict(os.environ, PYTHONPATH=IMPORT_ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [sys.executable, "-m", "sglang_router.launch_router", "--worker-urls", w.url,
         "--port", str(port), "--prometheus-port", str(metrics), "--worker-startup-check-interval", "1"],
        cwd=tmp_path, env=env, preexec_fn=_reset_sigint, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        up = wait_until(lambda: _listening(port), timeout=10)
        assert up, proc.stdout.read().decode() if proc.poll() is not None else "router did not listen"
        t0 = time.monotonic()
        proc.send_signal(sig)
        code = proc.wait(timeout=10)
        elapsed = time.monotonic() - t0
        output = proc.stdout.read().decode()
        assert code == 0, output
        assert elapsed < 2.0, f"took {elapsed:.2f}s to stop"
        assert "Traceback" not in output
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _listening(port: int) -> bool:
    try:
        return http("GET", f"http://127.0.0.1:{port}/liveness", timeout=1)[0] == 200
    except OSError:
        return False


def _start_cli(tmp_path, *args):
    port, metrics = pick_free_port(), pick_free_port()
    env = dict(os.environ, PYTHONPATH=IMPORT_ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [sys.executable, "-m", "sglang_router.launch_router", "--port", str(port),
         "--prometheus-port", str(metrics), "--worker-startup-check-interval", "1", *args],
        cwd=tmp_path, env=env, preexec_fn=_reset_sigint, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert wait_until(lambda: _listening(port), timeout=10), "router did not listen"
    return proc, f"http://127.0.0.1:{port}"


def test_first_signal_lets_in_flight_requests_finish_second_one_forces_exit(fake_worker, tmp_path):
    w = fake_worker("slow", delay=1.5)
    proc, url = _start_cli(tmp_path, "--worker-urls", w.url, "--shutdown-grace-period-secs", "30")
    try:
        assert wait_until(lambda: get_json(url + "/readiness")[0] == 200)
        results = []
        t = threading.Thread(target=lambda: results.append(post_json(url + "/generate", {"text": "x"})))
        t.start()
        assert wait_until(lambda: w.count("/generate") == 1)
        proc.send_signal(signal.SIGINT)
        t.join(timeout=10)
        assert results and results[0][0] == 200, results  # the in-flight request was answered
        assert proc.wait(timeout=5) == 0

        proc, url = _start_cli(tmp_path, "--worker-urls", w.url, "--shutdown-grace-period-secs", "30")
        assert wait_until(lambda: get_json(url + "/readiness")[0] == 200)  # the worker checked, its model known
        w.knobs.delay = 10
        threading.Thread(target=lambda: _status_of(url + "/generate"), daemon=True).start()
        assert wait_until(lambda: w.count("/generate") == 2)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.3)
        assert proc.poll() is None  # waiting for the in-flight request
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=5) == 0
        assert time.monotonic() - t0 < 2
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _status_of(url):
    try:
        return post_json(url, {"text": "x"}, timeout=30)[0]
    except OSError:
        return None


FORK_SCRIPT = """
import os, sys
from sglang_router import Router, _native
_native.version()  # the parent loads the library (and starts the Go runtime)
pid = os.fork()
if pid == 0:
    try:
        Router(worker_urls=[]).serve_in_background()
        os._exit(3)
    except RuntimeError as e:
        sys.stdout.write(str(e)); sys.stdout.flush()
        os._exit(0)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def test_forked_child_gets_a_clear_error_instead_of_a_hang(tmp_path):
    env = dict(os.environ, PYTHONPATH=IMPORT_ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", FORK_SCRIPT], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert "spawn" in proc.stdout


# ----- admin and client keys, interruptible add_worker -----


def _status(method, url, headers=None, body=None):
    try:
        return http(method, url, body=body, headers=headers or {}, timeout=10)[0]
    except OSError as e:
        raise AssertionError(f"{method} {url}: {e}")


def test_admin_and_client_keys(free_port, fake_worker):
    w, extra = fake_worker("w"), fake_worker("extra")
    r = make_router(free_port, [w], admin_api_key="adm-key", client_api_keys=["c1", "c2"], api_key="to-workers")
    with r:
        assert wait_until(lambda: get_json(r.url + "/readiness")[0] == 200)
        add = f"{r.url}/add_worker?url={extra.url}"
        assert _status("POST", add) == 401
        assert _status("POST", add, {"Authorization": "Bearer c1"}) == 401
        assert _status("POST", add, {"Authorization": "Bearer adm-key"}) == 200
        gen = r.url + "/generate"
        body = b'{"text": "hi"}'
        assert _status("POST", gen, body=body) == 401
        assert _status("POST", gen, {"Authorization": "Bearer adm-key"}, body) == 401
        assert _status("POST", gen, {"Authorization": "Bearer c2"}, body) == 200
        seen = [q.headers.get("authorization") for x in (w, extra) for q in x.requests if q.path == "/generate"]
        assert seen == ["Bearer to-workers"], seen  # the client's key never reaches a worker
        assert _status("GET", r.url + "/health") == 200


def test_openai_client_with_a_client_key(free_port, fake_worker):
    openai = pytest.importorskip("openai")
    w = fake_worker("w")
    with make_router(free_port, [w], client_api_keys=["sk-client"]) as r:
        assert wait_until(lambda: get_json(r.url + "/readiness")[0] == 200)
        good = openai.OpenAI(base_url=r.url + "/v1", api_key="sk-client", max_retries=0)
        out = good.completions.create(model="fake-model", prompt="hello", max_tokens=4)
        assert out.choices
        bad = openai.OpenAI(base_url=r.url + "/v1", api_key="sk-wrong", max_retries=0)
        with pytest.raises(openai.AuthenticationError):
            bad.completions.create(model="fake-model", prompt="hello", max_tokens=4)
        assert all("sk-client" not in (q.headers.get("authorization") or "") for q in w.requests)


def test_admin_key_from_the_environment_set_after_the_library_loaded(free_port, fake_worker, monkeypatch):
    _native.version()  # the library is loaded (and Go has read the environment) before the variable is set
    monkeypatch.setenv("SGLANG_ROUTER_ADMIN_API_KEY", "env-key")
    with make_router(free_port, [fake_worker()]) as r:
        assert _status("GET", r.url + "/list_workers") == 401
        assert _status("GET", r.url + "/list_workers", {"Authorization": "Bearer env-key"}) == 200
    monkeypatch.delenv("SGLANG_ROUTER_ADMIN_API_KEY")
    with make_router(free_port, [fake_worker()]) as r:
        assert _status("GET", r.url + "/list_workers") == 200


def test_effective_config_and_print_config_read_keys_set_after_the_library_loaded(monkeypatch, capfd):
    from sglang_router import cli

    _native.version()
    monkeypatch.setenv("SGLANG_ROUTER_ADMIN_API_KEY", "env-admin")
    monkeypatch.setenv("SGLANG_ROUTER_CLIENT_API_KEYS", "e1,e2")
    config = Router(worker_urls=["http://127.0.0.1:1"]).effective_config()
    assert config["admin_api_key"] == "env-admin" and config["client_api_keys"] == ["e1", "e2"]
    assert cli.run_go(["--print-config", "--worker-urls", "http://127.0.0.1:1"]) == 0
    assert '"admin_api_key": "env-admin"' in capfd.readouterr().out


def test_add_worker_normalises_and_refuses_bad_urls(free_port, fake_worker):
    a, b = fake_worker("a"), fake_worker("b")
    with make_router(free_port, [a]) as r:
        r.add_worker(b.url.replace("http://", "HTTP://") + "/")
        assert sorted(r.list_workers()["urls"]) == sorted([a.url, b.url])
        with pytest.raises(RuntimeError, match="already exists"):
            r.add_worker(b.url + "/")
        with pytest.raises(ValueError, match="credentials") as e:
            r.add_worker("http://user:s3cret@127.0.0.1:1")
        assert "s3cret" not in str(e.value)
        with pytest.raises(ValueError, match="own address"):
            r.add_worker(r.url)
        with pytest.raises(RuntimeError, match="does not resolve"):
            r.add_worker("http://no-such-host.invalid:8000")
        r.remove_worker(b.url + "/")
        assert r.list_workers() == {"urls": [a.url]}


ADD_DEAD_WORKER = """
import sys
from sglang_router import Router
r = Router(worker_urls=[], port=int(sys.argv[1]), prometheus_port=int(sys.argv[2]),
           worker_startup_timeout_secs=600, worker_startup_check_interval=1)
r.serve_in_background()
try:
    print("adding", flush=True)
    r.add_worker("http://127.0.0.1:1")
    print("added", flush=True)
except KeyboardInterrupt:
    print("interrupted", r.list_workers(), flush=True)
    r.stop(0)
    sys.exit(130)
"""


def test_ctrl_c_interrupts_add_worker(tmp_path):
    env = dict(os.environ, PYTHONPATH=IMPORT_ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [sys.executable, "-c", ADD_DEAD_WORKER, str(pick_free_port()), str(pick_free_port())],
        cwd=tmp_path, env=env, preexec_fn=_reset_sigint, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout.readline().strip() == "adding"
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)  # the add alone would wait 600 s
        assert proc.returncode == 130, out
        assert "interrupted {'urls': []}" in out, out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
