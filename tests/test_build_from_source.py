"""Building from source says what is wrong in one line: Go missing or too
old, or Go modules that cannot be downloaded (an offline machine)."""

import os
import stat
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETUP = os.path.join(ROOT, "setup.py")

pytestmark = pytest.mark.skipif(not os.path.isfile(SETUP), reason="not a source checkout")


def build_py(tmp_path, env):
    """setup.py's build step into a scratch folder, as pip would run it."""
    code = "import runpy, sys; sys.argv = ['setup.py', 'build_py', '-d', sys.argv[1]]; runpy.run_path('setup.py', run_name='__main__')"
    return subprocess.run([sys.executable, "-c", code, str(tmp_path / "out")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def fake_go(tmp_path, version):
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    go = bin_dir / "go"
    go.write_text(f"#!/bin/sh\necho {version}\n")
    go.chmod(go.stat().st_mode | stat.S_IEXEC)
    return str(bin_dir)


def test_missing_go_is_one_clear_line(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    out = build_py(tmp_path, dict(os.environ, PATH=str(empty)))
    assert out.returncode != 0
    assert "needs Go >= 1.26" in out.stderr and "https://go.dev/dl/" in out.stderr
    assert "Traceback" not in out.stderr


def test_old_go_is_one_clear_line(tmp_path):
    out = build_py(tmp_path, dict(os.environ, PATH=fake_go(tmp_path, "go1.20.3") + os.pathsep + os.environ["PATH"]))
    assert out.returncode != 0
    assert "needs Go >= 1.26" in out.stderr and "found go1.20.3" in out.stderr
    assert "Traceback" not in out.stderr


def test_modules_that_cannot_be_downloaded_are_named_not_the_c_compiler(tmp_path):
    env = dict(os.environ, GOPROXY="off", GOFLAGS="-mod=mod", GOMODCACHE=str(tmp_path / "empty-modcache"))
    out = build_py(tmp_path, env)
    assert out.returncode != 0
    last = out.stderr.strip().splitlines()[-1]
    assert "could not download the modules" in last, out.stderr[-2000:]
    assert "C compiler" not in last
