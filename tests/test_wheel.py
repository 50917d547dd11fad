"""The built wheels: installable anywhere glibc >= 2.17, complete metadata,
and a router that runs from a fresh virtual environment.

`make test` builds the wheels once (make wheel) and passes their paths in
SGLANG_ROUTER_WHEEL (x86_64) and SGLANG_ROUTER_WHEEL_ARM (aarch64); without
them these tests are skipped.
"""

import email
import os
import re
import signal
import subprocess
import sys
import zipfile

import pytest
from helpers import get_json, http, pick_free_port, wait_until

WHEEL = os.environ.get("SGLANG_ROUTER_WHEEL", "")
WHEEL_ARM = os.environ.get("SGLANG_ROUTER_WHEEL_ARM", "")

needs_wheel = pytest.mark.skipif(not os.path.isfile(WHEEL), reason="SGLANG_ROUTER_WHEEL not built (make wheel)")
needs_arm = pytest.mark.skipif(not os.path.isfile(WHEEL_ARM), reason="SGLANG_ROUTER_WHEEL_ARM not built (make wheel)")


def _metadata(wheel):
    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        meta = email.message_from_bytes(z.read(name))
        tags = email.message_from_bytes(z.read(name.replace("METADATA", "WHEEL"))).get_all("Tag")
        return meta, tags, z.namelist()


@needs_wheel
def test_wheel_tags_and_metadata():
    meta, tags, names = _metadata(WHEEL)
    assert set(tags) == {"py3-none-manylinux_2_17_x86_64", "py3-none-manylinux2014_x86_64"}
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta["Author"], "authors"
    assert any(u.startswith("Homepage, https://") for u in meta.get_all("Project-URL")), meta.get_all("Project-URL")
    assert meta["Requires-Python"] == ">=3.8"
    assert "sglang_router/lib/libsglang_router.so" in names and "sglang_router/_spec.json" in names
    assert any(n.endswith("licenses/LICENSE") for n in names)


@pytest.mark.parametrize("wheel,arch", [pytest.param(WHEEL, "x86_64", marks=needs_wheel),
                                        pytest.param(WHEEL_ARM, "aarch64", marks=needs_arm)])
def test_auditwheel_finds_manylinux_2_17(wheel, arch, tmp_path):
    shown = subprocess.run([sys.executable, "-m", "auditwheel", "show", wheel], capture_output=True, text=True, timeout=120)
    text = " ".join(shown.stdout.split())
    assert shown.returncode == 0, shown.stderr
    m = re.search(r'consistent with the following platform tag: "manylinux_2_(\d+)_' + arch, text)
    assert m and int(m.group(1)) <= 17, shown.stdout  # 2.17 or an older policy
    with zipfile.ZipFile(wheel) as z:
        lib = z.extract("sglang_router/lib/libsglang_router.so", tmp_path)
    elf = subprocess.run(["readelf", "-h", "-V", lib], capture_output=True, text=True, check=True).stdout
    assert ("AArch64" if arch == "aarch64" else "X86-64") in elf
    versions = {tuple(map(int, v.split("."))) for v in re.findall(r"GLIBC_(\d+\.\d+(?:\.\d+)?)", elf)}
    assert versions and max(versions) <= (2, 17), sorted(versions)


@needs_wheel
@pytest.mark.native
def test_router_runs_from_the_wheel_in_a_fresh_venv(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run(pip + ["install", "--quiet", "--no-index", "--no-deps", WHEEL], check=True, timeout=300)
    cmd = str(venv / "bin" / "sglang-router")
    procs = []
    try:
        sim = subprocess.Popen([cmd, "sim", "-workers", "1", "-time-scale", "0"], stdout=subprocess.PIPE,
                               text=True, cwd=tmp_path, preexec_fn=_reset_sigint)
        procs.append(sim)
        worker = sim.stdout.readline().split(": ", 1)[1].strip()
        port = pick_free_port()
        router = subprocess.Popen([cmd, "--worker-urls", worker, "--port", str(port), "--prometheus-port",
                                   str(pick_free_port()), "--worker-startup-check-interval", "1"],
                                  cwd=tmp_path, stderr=subprocess.DEVNULL, preexec_fn=_reset_sigint)
        procs.append(router)
        base = f"http://127.0.0.1:{port}"
        assert wait_until(lambda: _status(base + "/readiness") == 200, timeout=60)
        status, body = _post(base + "/generate", {"text": "hello from the wheel", "sampling_params": {"max_new_tokens": 2}})
        assert status == 200, body
        for p in procs:
            p.send_signal(signal.SIGINT)
            assert p.wait(timeout=60) == 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def _reset_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _status(url):
    try:
        return get_json(url, timeout=2)[0]
    except OSError:
        return None


def _post(url, body):
    status, raw, _ = http("POST", url, body)
    return status, raw
