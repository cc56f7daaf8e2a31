#!/usr/bin/env bash
# idle_rss: resident memory of an idle `kite server --disable-agent` once it serves
# requests, beside the memory target (30 MB) as the reference.
#
# Usage: bench/idle_rss.sh path/to/kite
set -euo pipefail
KITE=${1:?usage: $0 path/to/kite}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/kite-rss-XXXXXX")
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$KITE" server --disable-agent --data-dir "$TMP/data" --bind-address 127.0.0.1 \
  --https-listen-port "$PORT" --write-kubeconfig "$TMP/kubeconfig" >"$TMP/log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$TMP"' EXIT
start=$(date +%s.%N)
until [[ -s "$TMP/kubeconfig" ]] && KUBECONFIG="$TMP/kubeconfig" kubectl get --raw /readyz >/dev/null 2>&1; do
  kill -0 $PID 2>/dev/null || { cat "$TMP/log"; exit 1; }
  sleep 0.05
done
ready_s=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}')
# A little use first (discovery, a list), then idle.
KUBECONFIG="$TMP/kubeconfig" kubectl get namespaces >/dev/null
KUBECONFIG="$TMP/kubeconfig" kubectl api-resources >/dev/null
rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$PID/status)
threads=$(awk '/Threads/ {print $2}' /proc/$PID/status)
rss_mb=$(awk -v k="$rss_kb" 'BEGIN {printf "%.1f", k / 1024}')
ratio=$(awk -v m="$rss_mb" 'BEGIN {printf "%.2f", m / 30}')
# Then what the OpenAPI documents add once a client (kubectl apply, explain) asks for them.
KUBECONFIG="$TMP/kubeconfig" kubectl get --raw /openapi/v3/apis/apps/v1 >/dev/null
openapi_mb=$(awk '/VmRSS/ {printf "%.1f", $2 / 1024}' /proc/$PID/status)
echo "idle kite server --disable-agent: RSS ${rss_mb} MB, ${threads} threads, ready in ${ready_s} s (first start, PKI generated); ${openapi_mb} MB once OpenAPI is served"
echo "RESULT idle_rss_mb=${rss_mb} target_rss_mb=30 ratio_vs_target=${ratio} threads=${threads} first_ready_s=${ready_s} rss_after_openapi_mb=${openapi_mb}"
