"""Build manylinux2014 wheels of sglang-router (used by `make wheel`).

For each architecture, Go cross-compiles the c-shared library with Zig's C
compiler (PyPI package `ziglang`) targeting glibc 2.17, so the wheel loads on
any Linux with glibc >= 2.17 (CentOS 7, Ubuntu 14.04 and later, RHEL 8,
Debian 8 ...). The wheel is tagged manylinux_2_17_<arch>.manylinux2014_<arch>
and then checked:

- `auditwheel show` must find it consistent with manylinux_2_17 (or an older
  policy);
- no symbol version in the library may be newer than GLIBC_2.17 (read from
  the ELF, so the aarch64 wheel is checked on an x86_64 machine too).

usage: python scripts/build_wheel.py [--out dist] [x86_64] [aarch64]
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GLIBC = (2, 17)
GOARCH = {"x86_64": "amd64", "aarch64": "arm64"}


def plat_tag(arch):
    return f"manylinux_2_17_{arch}.manylinux2014_{arch}"


def build(arch, out):
    """Build one wheel into `out` and return its path."""
    zig_cc = f"{sys.executable} -m ziglang cc -target {arch}-linux-gnu.{GLIBC[0]}.{GLIBC[1]}"
    env = dict(os.environ, GOOS="linux", GOARCH=GOARCH[arch], CGO_ENABLED="1", CC=zig_cc,
               SGLANG_ROUTER_PLAT_NAME=plat_tag(arch))
    shutil.rmtree(os.path.join(ROOT, "build"), ignore_errors=True)  # never reuse another arch's library
    wheel = os.path.join(out, f"sglang_router-{version()}-py3-none-{plat_tag(arch)}.whl")
    if os.path.exists(wheel):
        os.remove(wheel)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--disable-pip-version-check", "-q", "-w", out, ROOT], check=True, env=env)
    if not os.path.exists(wheel):
        raise SystemExit(f"expected {wheel}; found {os.listdir(out)}")
    return wheel


def version():
    with open(os.path.join(ROOT, "sglang_router", "version.py")) as f:
        return re.search(r'__version__\s*=\s*"([^"]+)"', f.read()).group(1)


def glibc_versions(library_bytes_path):
    """GLIBC_x.y symbol versions the library needs (readelf -V)."""
    out = subprocess.run(["readelf", "-V", library_bytes_path], capture_output=True, text=True, check=True).stdout
    return sorted({tuple(int(x) for x in v.split(".")) for v in re.findall(r"GLIBC_(\d+\.\d+(?:\.\d+)?)", out)})


def check(wheel, arch, scratch):
    """auditwheel and the ELF's symbol versions must agree with the tag."""
    shown = subprocess.run([sys.executable, "-m", "auditwheel", "show", wheel], capture_output=True, text=True)
    text = " ".join(shown.stdout.split())
    m = re.search(r'consistent with the following platform tag: "manylinux_(\d+)_(\d+)_' + arch, text)
    if shown.returncode != 0 or not m or (int(m.group(1)), int(m.group(2))) > GLIBC:
        raise SystemExit(f"auditwheel show {wheel}: not manylinux_2_17 or older:\n{shown.stdout}{shown.stderr}")
    with zipfile.ZipFile(wheel) as z:
        lib = z.extract("sglang_router/lib/libsglang_router.so", scratch)
    newest = glibc_versions(lib)[-1]
    if newest > GLIBC:
        raise SystemExit(f"{wheel}: needs GLIBC_{'.'.join(map(str, newest))} > 2.17")
    print(f"{os.path.basename(wheel)}: auditwheel manylinux_{m.group(1)}_{m.group(2)}, newest symbol GLIBC_{'.'.join(map(str, newest))}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=os.path.join(ROOT, "dist"))
    p.add_argument("arches", nargs="*", default=list(GOARCH), choices=list(GOARCH))
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    scratch = os.path.join(ROOT, "build", "wheel-check")
    for arch in args.arches:
        wheel = build(arch, args.out)
        check(wheel, arch, os.path.join(scratch, arch))
    shutil.rmtree(os.path.join(ROOT, "build"), ignore_errors=True)


if __name__ == "__main__":
    main()
