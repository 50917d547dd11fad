"""Build glue: compile the Go router into sglang_router/lib/libsglang_router.so.

Metadata lives in pyproject.toml. This file only adds a build_py step that runs

    go build -buildmode=c-shared -trimpath -o <build_lib>/sglang_router/lib/libsglang_router.so ./go/capi
    go run ./go/cmd/sglang-router --print-spec > <build_lib>/sglang_router/_spec.json

from the project root (where go.mod is), and marks the wheel as platform
specific (py3-none-<platform>: the library does not depend on the Python
ABI). GOOS/GOARCH/CC in the environment cross-compile the library (see
`make wheel`); SGLANG_ROUTER_PLAT_NAME then names the wheel's platform tag.
"""

import json
import os
import re
import shutil
import subprocess
import sys

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

try:  # setuptools >= 70.1 ships bdist_wheel itself
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # older setuptools: the wheel package's
    from wheel.bdist_wheel import bdist_wheel

ROOT = os.path.dirname(os.path.abspath(__file__))
LIB_REL = os.path.join("sglang_router", "lib", "libsglang_router.so")
SPEC_REL = os.path.join("sglang_router", "_spec.json")
# `make wheel` sets it to the manylinux tags of the target (e.g.
# manylinux2014_x86_64.manylinux_2_17_x86_64), having built with a C
# compiler that targets glibc 2.17; `auditwheel show` checks the claim.
PLAT_ENV = "SGLANG_ROUTER_PLAT_NAME"
GO_PACKAGE = "./go/capi"


def _version_tuple(text):
    m = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", text)
    return tuple(int(x or 0) for x in m.groups()) if m else None


def required_go_version():
    """The `go` line of go.mod, e.g. (1, 26, 0)."""
    with open(os.path.join(ROOT, "go.mod")) as f:
        m = re.search(r"^go\s+(\S+)", f.read(), re.MULTILINE)
    return _version_tuple(m.group(1)) if m else (1, 0, 0)


def package_version():
    """__version__ from sglang_router/version.py (the one place it is written)."""
    with open(os.path.join(ROOT, "sglang_router", "version.py")) as f:
        return re.search(r'__version__\s*=\s*"([^"]+)"', f.read()).group(1)


def fail(message):
    """One clear line instead of a traceback."""
    raise SystemExit(f"error: {message}")


def check_go():
    """Return the `go` executable, or fail when it is missing or too old.

    `go env GOVERSION` runs in the module root, so a Go that can switch to the
    toolchain go.mod asks for (GOTOOLCHAIN=auto) reports that version.
    """
    need = required_go_version()
    need_text = ".".join(map(str, need[:2] if need[2] == 0 else need))
    hint = (
        f"sglang-router needs Go >= {need_text} to build its native library; "
        "install it from https://go.dev/dl/ and make sure `go` is on PATH"
    )
    go = shutil.which("go")
    if go is None:
        fail(hint)
    try:
        out = subprocess.run([go, "env", "GOVERSION"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout
    except subprocess.CalledProcessError as e:
        fail(f"{hint} (`go env GOVERSION` failed: {e.stderr.strip()})")
    have = _version_tuple(out)
    if have is None or have < need:
        fail(f"{hint} (found {out.strip() or 'an unknown version'})")
    return go


def _run_go(cmd, what):
    """Run a go command from the project root; on failure, one clear line
    that says why (no C compiler, modules not downloadable, or Go's own
    message), after Go's output."""
    env = dict(os.environ, CGO_ENABLED="1")
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    sys.stderr.write(proc.stderr)
    if proc.returncode == 0:
        return proc.stdout
    err = proc.stderr
    if any(s in err for s in ("dial tcp", "proxy.golang.org", "GOPROXY", "GOFLAGS=-mod=mod",
                              "module lookup disabled", "no such host", "i/o timeout",
                              "missing go.sum entry", "cannot find module")):
        fail(f"{what}: Go could not download the modules it needs (see above). Build once while "
             "online (`go mod download` in the project root fills the module cache), or point "
             "GOPROXY at a reachable module proxy; GOFLAGS=-mod=mod GOPROXY=off works offline "
             "with a filled cache")
    if "C compiler" in err or "cgo: " in err or "gcc" in err and "not found" in err:
        fail(f"{what}: cgo needs a C compiler for -buildmode=c-shared (see above); install gcc or "
             "clang, or set CC (e.g. CC=\"python -m ziglang cc\")")
    fail(f"{what} failed (see Go's output above)")


def build_native(output):
    """go build the c-shared library to `output` (its .h header is dropped)."""
    go = check_go()
    os.makedirs(os.path.dirname(output), exist_ok=True)
    # -extldflags=-s: the external linker (gcc, clang, zig cc) strips its symbols too.
    ldflags = f"-s -w -extldflags=-s -X main.version={package_version()}"  # sgl_version reports it
    cmd = [go, "build", "-buildmode=c-shared", "-trimpath", "-ldflags=" + ldflags,
           "-o", output, GO_PACKAGE]
    print("building the Go library:", " ".join(cmd), flush=True)
    _run_go(cmd, "`go build` of the native library")
    header = os.path.splitext(output)[0] + ".h"
    if os.path.exists(header):
        os.remove(header)


def write_spec(output):
    """Ask Go for the option table (go/config) and write it beside the
    package as _spec.json: Python derives RouterArgs, argparse and Router's
    signature from it without loading the library. It runs on the build
    machine, so a cross-compiled wheel gets the same table."""
    go = check_go()
    env_cmd = [go, "run", "-trimpath", "./go/cmd/sglang-router", "--print-spec"]
    saved = {k: os.environ.pop(k, None) for k in ("GOOS", "GOARCH", "CC")}  # host build
    try:
        spec = _run_go(env_cmd, "`go run` of the option table")
    finally:
        os.environ.update({k: v for k, v in saved.items() if v is not None})
    json.loads(spec)  # fail here, not at import, if it is not JSON
    with open(output, "w") as f:
        f.write(spec)


class BuildPyWithGo(build_py):
    """build_py, then the Go library into the build tree (or, editable, the source tree)."""

    def run(self):
        check_go()  # fail before any work when Go is missing or too old
        super().run()
        build_native(self._output(LIB_REL))
        write_spec(self._output(SPEC_REL))

    def _output(self, rel):
        base = ROOT if getattr(self, "editable_mode", False) else self.build_lib
        return os.path.join(base, rel)

    def get_outputs(self, include_bytecode=1):
        return super().get_outputs(include_bytecode) + [self._output(LIB_REL), self._output(SPEC_REL)]


class PlatformWheel(bdist_wheel):
    """A py3-none-<platform> wheel: one native library, any Python 3."""

    def finalize_options(self):
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):
        _, _, plat = super().get_tag()
        return "py3", "none", os.environ.get(PLAT_ENV) or plat


class BinaryDistribution(Distribution):
    """Installs into platlib: the package carries a native library."""

    def has_ext_modules(self):
        return True


setup(
    cmdclass={"build_py": BuildPyWithGo, "bdist_wheel": PlatformWheel},
    distclass=BinaryDistribution,
)
