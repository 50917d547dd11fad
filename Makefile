# sglang-router (Go): build, test, demo and benchmarks.
# `make test` is what CI (.ci/run) runs; `make demo` is the main job.

# PYTHON creates the project's virtual environment (.venv); everything
# Python (pip install, pytest, the wheel build) then runs inside it, never
# in whatever python3 comes first on PATH.
PYTHON ?= python3
GO     ?= go
VENV   := .venv
VPY    := $(VENV)/bin/python
PIP    := $(VPY) -m pip --disable-pip-version-check
LIB    := sglang_router/lib/libsglang_router.so
BIN    := bin/sglang-router
VERSION := $(shell sed -n 's/^__version__ = "\(.*\)"/\1/p' sglang_router/version.py)
WHEEL_X86 := dist/sglang_router-$(VERSION)-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
WHEEL_ARM := dist/sglang_router-$(VERSION)-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.whl
GOFILES := $(shell find go -name '*.go' 2>/dev/null) go.mod go.sum
PYFILES := $(shell find sglang_router -name '*.py' 2>/dev/null) setup.py pyproject.toml sglang_router_rs.py

.PHONY: all lib bin venv install deps k8s-deps lint gotest pytest test chaos wheel bench bench-go bench-proxy bench-routing fuzz demo clean

all: lib bin

lib: $(LIB)
$(LIB): $(GOFILES)
	$(GO) build -buildmode=c-shared -trimpath -o $(LIB) ./go/capi

bin: $(BIN)
$(BIN): $(GOFILES)
	$(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./go/cmd/sglang-router

# The project-local virtual environment.
venv: $(VPY)
$(VPY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip setuptools wheel

# Python test and build dependencies, then the package itself, installed as a user would.
deps: $(VPY)
	$(PIP) install --quiet -r tests/requirements.txt

install: deps
	$(PIP) install --quiet --force-reinstall --no-deps .

# manylinux2014 wheels for x86_64 and aarch64 (Zig's C compiler targeting
# glibc 2.17), each checked by auditwheel; see scripts/build_wheel.py.
wheel: $(WHEEL_X86) $(WHEEL_ARM)
$(WHEEL_X86): $(GOFILES) $(PYFILES) | deps
	$(VPY) scripts/build_wheel.py x86_64
$(WHEEL_ARM): $(GOFILES) $(PYFILES) | deps
	$(VPY) scripts/build_wheel.py aarch64

# A real kube-apiserver and helm (built once from the Go module proxy, cached
# under ~/.cache/sglang-router) and Debian's etcd, for the discovery and
# deploy tests.
k8s-deps:
	bash scripts/k8s/get-kube-apiserver.sh >/dev/null
	bash scripts/k8s/get-helm.sh >/dev/null

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l go); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Tests named ...AllocatesNothing count allocations, which -race changes
# (it instruments, and sync.Pool drops entries under it): they are built
# for plain runs only and run once more without -race.
gotest:
	$(GO) test -race -count=1 ./...
	$(GO) test -count=1 -run AllocatesNothing ./...

# The chaos tests alone (also part of gotest): the router binary and
# simulated workers as processes, killed, hung and attacked under load.
chaos:
	$(GO) test -count=1 -v -run 'TestChaos|TestConnectionAttack' ./go/chaos

# pytest runs against the installed package, from outside the source tree
# (so `import sglang_router` cannot pick up the unbuilt source folder).
# SGLANG_ROUTER_WHEEL: tests/test_wheel.py installs that wheel into a fresh
# virtual environment and runs the router from it.
# SGLANG_ROUTER_BIN: the binary, compared with the Python front door.
pytest: install wheel $(BIN)
	cd tests && SGLANG_ROUTER_WHEEL=$(abspath $(WHEEL_X86)) SGLANG_ROUTER_WHEEL_ARM=$(abspath $(WHEEL_ARM)) \
		SGLANG_ROUTER_BIN=$(abspath $(BIN)) ../$(VPY) -m pytest -q -p no:cacheprovider .

test: lint k8s-deps gotest pytest

# The main job: simulated workers, the router, a shared-prefix workload
# through each policy; prints a table and writes out/demo.svg.
demo: $(BIN)
	$(BIN) demo -out out

# Benchmarks: Go micro-benchmarks, the proxy overhead against nginx, and
# routing quality.
bench: bench-go bench-proxy bench-routing

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1s ./go/...

# bench-proxy: direct, nginx and the router side by side under wrk (see
# go/bench/proxybench.go); wrk and nginx come from Debian's packages, which
# it installs when it can (as root with apt-get) and otherwise names.
bench-proxy: $(BIN)
	@command -v wrk >/dev/null && { command -v nginx >/dev/null || test -x /usr/sbin/nginx; } || \
		{ test "$$(id -u)" = 0 && command -v apt-get >/dev/null && \
		  apt-get update -qq && apt-get install -y -qq wrk nginx-light >/dev/null; } || \
		echo "bench-proxy: needs wrk and nginx (apt-get install wrk nginx-light)"
	$(BIN) bench -duration 3s -rounds 3

bench-routing: $(BIN)
	$(BIN) bench-routing -out out

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 60s ./go/reqbody
	$(GO) test -run '^$$' -fuzz '^FuzzParseLong$$' -fuzztime 60s ./go/reqbody
	$(GO) test -run '^$$' -fuzz '^FuzzInjectBootstrap$$' -fuzztime 30s ./go/reqbody
	$(GO) test -run '^$$' -fuzz '^FuzzRequest$$' -fuzztime 60s ./go/h1
	$(GO) test -run '^$$' -fuzz '^FuzzAnswer$$' -fuzztime 60s ./go/upstream
	$(GO) test -run '^$$' -fuzz '^FuzzInsertMatched$$' -fuzztime 30s ./go/radix
	$(GO) test -run '^$$' -fuzz '^FuzzCapture$$' -fuzztime 60s ./go/answer

clean:
	rm -rf bin build dist *.egg-info sglang_router/lib/*.so sglang_router/lib/*.h sglang_router/_spec.json $(VENV)
