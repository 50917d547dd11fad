# sglang-router (Go): build, test, demo and benchmarks.
# `make test` is what CI (.ci/run) runs; `make demo` is the main job.

PYTHON ?= python3
GO     ?= go
LIB    := sglang_router/lib/libsglang_router.so
BIN    := bin/sglang-router
GOFILES := $(shell find go -name '*.go' 2>/dev/null) go.mod go.sum

.PHONY: all lib bin install deps k8s-deps lint gotest pytest test bench bench-go bench-proxy bench-routing fuzz demo clean

all: lib bin

lib: $(LIB)
$(LIB): $(GOFILES)
	$(GO) build -buildmode=c-shared -trimpath -o $(LIB) ./go/capi

bin: $(BIN)
$(BIN): $(GOFILES)
	$(GO) build -trimpath -o $(BIN) ./go/cmd/sglang-router

# Python test dependencies and the package itself, installed as a user would.
deps:
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt

install: deps
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps .

# A real kube-apiserver (built once from the Go module proxy, cached under
# ~/.cache/sglang-router) and Debian's etcd, for the discovery tests.
k8s-deps:
	bash scripts/k8s/get-kube-apiserver.sh >/dev/null

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l go); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

gotest:
	$(GO) test -race -count=1 ./...

# pytest runs against the installed package, from outside the source tree
# (so `import sglang_router` cannot pick up the unbuilt source folder).
pytest: install
	cd tests && $(PYTHON) -m pytest -q -p no:cacheprovider .

test: lint k8s-deps gotest pytest

# The main job: simulated workers, the router, a shared-prefix workload
# through each policy; prints a table and writes out/demo.svg.
demo: $(BIN)
	$(BIN) demo -out out

# Benchmarks: Go micro-benchmarks, the routed-vs-direct overhead (at
# concurrency 1 for latency and 8 for throughput), and routing quality.
bench: bench-go bench-proxy bench-routing

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1s ./go/...

bench-proxy: $(BIN)
	$(BIN) bench -concurrency 1 -duration 3s
	$(BIN) bench -concurrency 8 -duration 3s

bench-routing: $(BIN)
	$(BIN) bench-routing -out out

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 60s ./go/reqbody

clean:
	rm -rf bin build dist *.egg-info sglang_router/lib/*.so sglang_router/lib/*.h
