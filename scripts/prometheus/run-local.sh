#!/usr/bin/env bash
# Run a throwaway Prometheus that scrapes one router's /metrics: to look at
# the numbers, or to point a local Grafana at while working on
# deploy/grafana/sglang-router.json. Data lives in a temporary folder,
# deleted on exit (Ctrl-C).
#
# Usage: scripts/prometheus/run-local.sh [ROUTER_METRICS_ADDR] [LISTEN_ADDR]
#        defaults: 127.0.0.1:29000 (the router's --prometheus-port default)
#        and 127.0.0.1:9090.
# Env:   PROMETHEUS       the binary; default `prometheus` on PATH, else
#                         /usr/bin/prometheus (Debian: apt-get install prometheus)
#        SCRAPE_INTERVAL  default 1s
set -euo pipefail

target="${1:-127.0.0.1:29000}"
listen="${2:-127.0.0.1:9090}"
bin="${PROMETHEUS:-$(command -v prometheus || echo /usr/bin/prometheus)}"
if [ ! -x "$bin" ]; then
  echo "no prometheus binary at $bin; on Debian/Ubuntu: sudo apt-get install prometheus" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: ${SCRAPE_INTERVAL:-1s}
scrape_configs:
  - job_name: sglang-router
    static_configs:
      - targets: ["$target"]
YAML

echo "Prometheus on http://$listen, scraping http://$target/metrics (Ctrl-C stops it)" >&2
"$bin" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
  --web.listen-address="$listen" --log.level=warn
