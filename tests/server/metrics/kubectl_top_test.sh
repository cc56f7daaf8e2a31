#!/usr/bin/env bash
# `kubectl top` end to end: a real `kite server --disable-agent --metric-resolution 1` and a
# `kite agent --runtime fake` node whose pods declare their usage with the fake runtime's
# sim.kite.dev/cpu-millicores and sim.kite.dev/memory-bytes annotations. The server scrapes
# the agent's /metrics/resource and serves metrics.k8s.io; the real kubectl's `top pod`
# (-n, -A, -l, --containers, by name) and `top node` must show exactly the configured usage.
#
# Usage: tests/server/metrics/kubectl_top_test.sh path/to/kite
set -uo pipefail

KITE=${1:?usage: $0 path/to/kite}
KITE=$(cd "$(dirname "$KITE")" && pwd)/$(basename "$KITE")
TMP=$(mktemp -d "${TMPDIR:-/tmp}/kite-top-test-XXXXXX")
SERVER_PID=""
AGENT_PID=""

stop() {  # stop PID: SIGTERM, then SIGKILL after 10 s
  local pid=$1
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop "$AGENT_PID"
  stop "$SERVER_PID"
  rm -rf "$TMP"
}
trap cleanup EXIT

# pass, fail, free_port, k and until_true; KUBECONFIG, PORT, KUBELET_PORT.
source "$(dirname "$0")/../../agent/kite_server_lib.sh"

# matches REGEX: the last k's output matches the extended regular expression.
matches() {
  if [[ $RC -eq 0 ]] && grep -Eq -- "$1" "$TMP/out"; then pass "$NAME: /$1/"; else
    fail "$NAME: want /$1/ (exit $RC): $OUT $ERR"; fi
}
lacks() {
  if ! grep -Eq -- "$1" "$TMP/out"; then pass "$NAME: no /$1/"; else fail "$NAME: unexpected /$1/: $OUT"; fi
}

URL="https://127.0.0.1:$PORT"
"$KITE" server --disable-agent --data-dir "$TMP/data" --bind-address 127.0.0.1 \
  --https-listen-port "$PORT" --write-kubeconfig "$KUBECONFIG" --metric-resolution 1 >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
deadline=$((SECONDS + 30))
until [[ -s "$KUBECONFIG" ]] && kubectl get --raw /readyz >/dev/null 2>&1; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then echo "server died: $(<"$TMP/server.log")"; exit 1; fi
  if ((SECONDS > deadline)); then echo "server not ready: $(<"$TMP/server.log")"; exit 1; fi
  sleep 0.1
done
pass "server ready"

k "discovery lists metrics.k8s.io" api-versions
matches '^metrics.k8s.io/v1beta1$'
k "before any node: top node" top node
if [[ $RC -ne 0 && "$ERR" == *"Metrics API not available"* ]]; then
  fail "top node: the API must be available even before metrics exist: $ERR"; else pass "top node: the API is available"; fi

"$KITE" agent --server "$URL" --token "$(<"$TMP/data/server/token")" --server-ca "$TMP/data/server/tls/server-ca.crt" \
  --runtime fake --node-name top-node --node-ip 127.0.0.1 --kubelet-port "$KUBELET_PORT" --data-dir "$TMP/agent" >"$TMP/agent.log" 2>&1 &
AGENT_PID=$!
node_ready() { kubectl get node top-node --no-headers 2>/dev/null | grep -q ' Ready '; }
until_true "kite agent --runtime fake registers a Ready node" 30 node_ready

kubectl create namespace other >/dev/null
kubectl run web --image=busybox --labels=app=web \
  --annotations=sim.kite.dev/cpu-millicores=250 --annotations=sim.kite.dev/memory-bytes=64Mi >/dev/null
kubectl run db -n other --image=busybox --labels=app=db \
  --annotations=sim.kite.dev/cpu-millicores=1500 --annotations=sim.kite.dev/memory-bytes=1Gi >/dev/null
# Two containers: --containers shows each.
kubectl apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: pair
  labels: {app: pair}
  annotations: {sim.kite.dev/cpu-millicores: "20", sim.kite.dev/memory-bytes: "3Mi"}
spec:
  containers:
  - {name: one, image: busybox}
  - {name: two, image: busybox}
YAML
running() { [[ "$(kubectl get pods -A --field-selector=status.phase=Running --no-headers 2>/dev/null | wc -l)" -eq 3 ]]; }
until_true "three pods Running on the fake node" 30 running

# A pod has metrics after two scrapes of it, and the pods started at different moments.
has_metrics() { [[ "$(kubectl top pod -A --no-headers 2>/dev/null | wc -l)" -eq 3 ]]; }
until_true "kubectl top pod -A answers for all three pods (two scrapes each)" 30 has_metrics

k "top pod web" top pod web --no-headers
matches '^web +250m +64Mi *$'
k "top pod (default namespace)" top pod --no-headers
matches '^web +250m +64Mi *$'
matches '^pair +40m +6Mi *$'
lacks '^db '
k "top pod -A" top pod -A --no-headers
matches '^other +db +1500m +1024Mi *$'
matches '^default +web +250m +64Mi *$'
k "top pod -l app=web" top pod -l app=web --no-headers
matches '^web +250m'
lacks '^pair'
k "top pod --containers" top pod pair --containers --no-headers
matches '^pair +one +20m +3Mi *$'
matches '^pair +two +20m +3Mi *$'
k "top pod -n other --sort-by=cpu" top pod -n other --sort-by=cpu
matches '^NAME +CPU\(cores\) +MEMORY\(bytes\)'
matches '^db +1500m +1024Mi'
k "top pod of a missing pod" top pod nope
if [[ $RC -ne 0 && "$ERR" == *"NotFound"* ]]; then pass "$NAME: NotFound"; else fail "$NAME: exit $RC: $OUT $ERR"; fi

# The node: the host's real CPU and memory (the fake node describes this machine).
node_metrics() { kubectl top node top-node --no-headers 2>/dev/null | grep -q top-node; }
until_true "kubectl top node shows the node" 30 node_metrics
k "top node" top node --no-headers
matches '^top-node +[0-9]+m +[0-9]+% +[0-9]+Mi +[0-9]+% *$'

# The raw objects, as metrics-server writes them.
k "raw PodMetrics" get --raw /apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web
matches '"kind":"PodMetrics"'
matches '"containers":\[\{"name":"web","usage":\{"cpu":"250m","memory":"64Mi"\}\}\]'
matches '"labels":\{"run":"web"|"labels":\{"app":"web"'
k "raw NodeMetricsList" get --raw /apis/metrics.k8s.io/v1beta1/nodes
matches '"kind":"NodeMetricsList"'
matches '"window":"[0-9.]+m?s"'
k "kubectl get podmetrics (a Table)" get pods.metrics.k8s.io -A
matches '^other +db +1500m +1Gi'

echo "$PASSED passed, $FAILED failed"
if [[ $FAILED -ne 0 ]]; then
  echo "--- server log"; tail -40 "$TMP/server.log"; echo "--- agent log"; tail -40 "$TMP/agent.log"
fi
[[ "$FAILED" -eq 0 ]]
