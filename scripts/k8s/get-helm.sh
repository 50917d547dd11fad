#!/usr/bin/env bash
# Obtain the real helm binary for the chart tests (deploy/helm): built
# from the Go module proxy (helm.sh/helm/v3 at $HELM_VERSION) into a cache
# dir, skipped when already built. Prints the binary's path on the last
# line of stdout. Export it as SGLANG_ROUTER_HELM (or leave it at the
# default path, which the tests look at too).
#
# Usage: scripts/k8s/get-helm.sh
# Env:   HELM_VERSION (default v3.22.0), SGLANG_ROUTER_K8S_CACHE (default
#        $HOME/.cache/sglang-router).
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v3.22.0}"
CACHE="${SGLANG_ROUTER_K8S_CACHE:-$HOME/.cache/sglang-router}"
OUT="$CACHE/helm-$HELM_VERSION"

if [ -x "$OUT" ]; then
  echo "helm $HELM_VERSION already built: $OUT" >&2
else
  work="$(mktemp -d)"
  trap 'rm -rf "'"$work"'"' EXIT
  echo "building helm $HELM_VERSION (takes a few minutes)" >&2
  mkdir -p "$CACHE"
  # helm's go.mod has no replace directives, so go install builds it as
  # published, outside any module of ours.
  GOBIN="$work" GOFLAGS=-mod=mod CGO_ENABLED=0 go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  mv "$work/helm" "$OUT"
fi
echo "$OUT"
