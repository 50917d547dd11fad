#!/usr/bin/env bash
# Obtain a real Kubernetes API server for the discovery tests:
#   - kube-apiserver, built from the Go module proxy (k8s.io/kubernetes at
#     $KUBE_VERSION) into a cache dir, skipped when already built;
#   - etcd, from Debian's etcd-server package, installed when missing.
# Prints the binary's path on the last line of stdout. Export it as
# SGLANG_ROUTER_KUBE_APISERVER (or leave it at the default path, which the
# tests look at too).
#
# Usage: scripts/k8s/get-kube-apiserver.sh [--no-etcd]
# Env:   KUBE_VERSION (default v1.37.1: the proxy serves no source zip for
#        v1.37.2), SGLANG_ROUTER_K8S_CACHE (default
#        $HOME/.cache/sglang-router).
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-v1.37.1}"
CACHE="${SGLANG_ROUTER_K8S_CACHE:-$HOME/.cache/sglang-router}"
OUT="$CACHE/kube-apiserver-$KUBE_VERSION"
STAGING_VERSION="v0.${KUBE_VERSION#v1.}" # k8s.io/kubernetes v1.X.Y <-> staging v0.X.Y

install_etcd() {
  if command -v etcd >/dev/null 2>&1; then
    return
  fi
  echo "installing etcd (Debian package etcd-server)" >&2
  local sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq etcd-server >&2
}

build_apiserver() {
  if [ -x "$OUT" ]; then
    echo "kube-apiserver $KUBE_VERSION already built: $OUT" >&2
    return
  fi
  local work
  work="$(mktemp -d)"
  trap 'rm -rf "'"$work"'"' EXIT
  echo "building kube-apiserver $KUBE_VERSION in $work (takes a few minutes)" >&2
  cd "$work"
  # Every go command below edits the module in this folder, never another.
  [ "$(pwd -P)" = "$(cd "$work" && pwd -P)" ] || exit 1
  cat >go.mod <<EOF
module sglang-router/kube-apiserver-build

go 1.26.0

require k8s.io/kubernetes $KUBE_VERSION
EOF
  # k8s.io/kubernetes replaces its staging modules with local folders, which
  # a dependent module cannot see: map each one to its published version.
  local dl
  dl="$(GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$KUBE_VERSION")"
  if grep -q '"Error"' <<<"$dl"; then
    echo "cannot download k8s.io/kubernetes@$KUBE_VERSION:" >&2
    echo "$dl" >&2
    exit 1
  fi
  local kmod
  kmod="$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$KUBE_VERSION.mod"
  local mods
  mods="$(awk '/=> \.\/staging\/src\//{print $1}' "$kmod")"
  if [ -z "$mods" ]; then
    echo "no staging replace lines in $kmod" >&2
    exit 1
  fi
  for m in $mods; do
    go mod edit -replace "$m=$m@$STAGING_VERSION"
  done
  # The tools.go pattern lets `go mod tidy` resolve the command's whole
  # dependency graph inside this throwaway module.
  printf '//go:build tools\n\npackage tools\n\nimport _ "k8s.io/kubernetes/cmd/kube-apiserver"\n' >tools.go
  GOFLAGS=-mod=mod go mod tidy >&2
  local pkg=k8s.io/component-base/version
  local minor="${KUBE_VERSION#v1.}"
  minor="${minor%%.*}"
  mkdir -p "$CACHE"
  GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -o "$OUT.tmp" \
    -ldflags "-s -w -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean" \
    k8s.io/kubernetes/cmd/kube-apiserver
  mv "$OUT.tmp" "$OUT"
  cd - >/dev/null
}

if [ "${1:-}" != "--no-etcd" ]; then
  install_etcd
fi
start=$(date +%s)
build_apiserver
echo "kube-apiserver ready ($(($(date +%s) - start)) s): $OUT" >&2
echo "$OUT"
