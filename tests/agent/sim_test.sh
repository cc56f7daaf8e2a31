#!/usr/bin/env bash
# Simulated nodes over HTTPS against a real `kite server --disable-agent`, checked with the
# real kubectl: `kite sim --nodes 3` registers three Ready nodes with leases, a pod bound to
# sim-node-00002 runs there, a crashing pod restarts, deletion ends with the pod gone, and
# SIGTERM stops the simulation (exit 0). Also `kite agent --runtime fake` as one node, and
# the usage errors of the new --server-ca flag.
#
# Usage: tests/agent/sim_test.sh path/to/kite
set -uo pipefail

KITE=${1:?usage: $0 path/to/kite}
KITE=$(cd "$(dirname "$KITE")" && pwd)/$(basename "$KITE")
TMP=$(mktemp -d "${TMPDIR:-/tmp}/kite-sim-test-XXXXXX")
SERVER_PID=""
SIM_PID=""
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
  stop "$SIM_PID"
  stop "$AGENT_PID"
  stop "$SERVER_PID"
  rm -rf "$TMP"
}
trap cleanup EXIT

# pass, fail, free_port, k and until_true; KUBECONFIG and PORT.
source "$(dirname "$0")/kite_server_lib.sh"

# stopped_with NAME PID LOG: PID ends within 10 s of SIGTERM with exit status 0.
stopped_with_zero() {
  local name=$1 pid=$2
  kill -TERM "$pid"
  local status=0 waited=0
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; waited=$((waited + 1)); done
  if kill -0 "$pid" 2>/dev/null; then fail "$name: still running 10 s after SIGTERM"; return 1; fi
  wait "$pid" || status=$?
  if [[ $status -eq 0 ]]; then pass "$name: exit 0"; else fail "$name: exit $status"; fi
}

URL="https://127.0.0.1:$PORT"
"$KITE" server --disable-agent --data-dir "$TMP/data" --bind-address 127.0.0.1 \
  --https-listen-port "$PORT" --write-kubeconfig "$KUBECONFIG" >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
deadline=$((SECONDS + 30))
until [[ -s "$KUBECONFIG" ]] && kubectl get --raw /readyz >/dev/null 2>&1; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then echo "server died: $(<"$TMP/server.log")"; exit 1; fi
  if ((SECONDS > deadline)); then echo "server not ready: $(<"$TMP/server.log")"; exit 1; fi
  sleep 0.1
done
pass "server ready"
TOKEN=$(<"$TMP/data/server/token")
CA="$TMP/data/server/tls/server-ca.crt"

# --- usage errors ----------------------------------------------------------------------------
STATUS=0
"$KITE" sim --server "$URL" --token "$TOKEN" --nodes 3 >/dev/null 2>"$TMP/err" || STATUS=$?
if [[ $STATUS -eq 2 && "$(<"$TMP/err")" == *"--server-ca"* ]]; then pass "sim without --server-ca: usage error"; else
  fail "sim without --server-ca: exit $STATUS: $(<"$TMP/err")"; fi
STATUS=0
"$KITE" sim --server "$URL" --token "$TOKEN" --server-ca "$TMP/nope.crt" --nodes 1 >/dev/null 2>"$TMP/err" || STATUS=$?
if [[ $STATUS -eq 1 && "$(<"$TMP/err")" == *"nope.crt"* ]]; then pass "a missing CA file is named"; else
  fail "missing CA file: exit $STATUS: $(<"$TMP/err")"; fi

# --- kite sim --nodes 3 ------------------------------------------------------------------------
"$KITE" sim --server "$URL" --token "$TOKEN" --server-ca "$CA" --nodes 3 >"$TMP/sim.log" 2>&1 &
SIM_PID=$!

three_ready() {
  [[ $(kubectl get nodes --no-headers 2>/dev/null | grep -c ' Ready ') -eq 3 ]]
}
until_true "3 simulated nodes Ready" 30 three_ready
NODES=$(kubectl get nodes --no-headers)
for n in sim-node-00001 sim-node-00002 sim-node-00003; do
  if [[ "$NODES" == *"$n "* ]]; then pass "node $n listed"; else fail "node $n missing: $NODES"; fi
done
RUNTIME=$(kubectl get node sim-node-00002 -o jsonpath='{.status.nodeInfo.containerRuntimeVersion} {.status.nodeInfo.kubeletVersion} {.spec.podCIDR}')
if [[ "$RUNTIME" == "fake://1.0 v1.32.0+kite 10.42.2.0/24" ]]; then pass "node info and podCIDR"; else fail "node info: $RUNTIME"; fi
LEASES=$(kubectl get leases -n kube-node-lease --no-headers 2>&1)
if [[ $(grep -c '^sim-node-' <<<"$LEASES") -eq 3 ]]; then pass "3 leases"; else fail "leases: $LEASES"; fi
RENEW=$(kubectl get lease -n kube-node-lease sim-node-00001 -o jsonpath='{.spec.renewTime}')
lease_renewed() { [[ "$(kubectl get lease -n kube-node-lease sim-node-00001 -o jsonpath='{.spec.renewTime}')" != "$RENEW" ]]; }
until_true "the lease is renewed" 20 lease_renewed

cat >"$TMP/pod.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  nodeName: sim-node-00002
  containers:
  - name: app
    image: nginx
EOF
if kubectl apply -f "$TMP/pod.yaml" >/dev/null 2>"$TMP/err"; then pass "pod created"; else fail "pod create: $(<"$TMP/err")"; fi
web_running() {
  [[ "$(kubectl get pod web -o jsonpath='{.status.phase} {.status.containerStatuses[0].ready}')" == "Running true" ]]
}
until_true "the pod on sim-node-00002 is Running and ready" 20 web_running
IP=$(kubectl get pod web -o jsonpath='{.status.podIP} {.status.hostIP}')
if [[ "$IP" == 10.42.2.*" 172.16.0.2" ]]; then pass "pod IP from the node's CIDR"; else fail "pod IPs: $IP"; fi
WIDE=$(kubectl get pod web -o wide --no-headers)
if [[ "$WIDE" == *"1/1"*"Running"*"sim-node-00002"* ]]; then pass "kubectl get -o wide"; else fail "get -o wide: $WIDE"; fi

kubectl run crash --image=busybox --annotations=sim.kite.dev/exit-code=2 \
  --overrides='{"spec":{"nodeName":"sim-node-00003"}}' >/dev/null 2>&1
crash_looping() { kubectl get pod crash --no-headers 2>/dev/null | grep -q CrashLoopBackOff; }
until_true "a crashing pod shows CrashLoopBackOff" 20 crash_looping

if kubectl delete pod web --wait=true --timeout=30s >/dev/null 2>"$TMP/err"; then pass "pod deleted (grace period honoured by the node)"; else
  fail "delete: $(<"$TMP/err")"; fi
web_gone() { ! kubectl get pod web >/dev/null 2>&1; }
until_true "the pod is gone" 10 web_gone

stopped_with_zero "kite sim stops on SIGTERM" "$SIM_PID"
SIM_PID=""

# --- kite agent --runtime fake: one node -------------------------------------------------------
"$KITE" agent --server "$URL" --token "$TOKEN" --server-ca "$CA" --runtime fake --node-name fake-worker \
  --data-dir "$TMP/agent" >"$TMP/agent.log" 2>&1 &
AGENT_PID=$!
worker_ready() { kubectl get node fake-worker --no-headers 2>/dev/null | grep -q ' Ready '; }
until_true "kite agent --runtime fake registers a Ready node" 20 worker_ready
kubectl run solo --image=busybox --restart=Never --annotations=sim.kite.dev/run-seconds=1 \
  --overrides='{"spec":{"nodeName":"fake-worker"}}' >/dev/null 2>&1
solo_done() { [[ "$(kubectl get pod solo -o jsonpath='{.status.phase}')" == "Succeeded" ]]; }
until_true "a pod on the agent's node runs to Succeeded" 20 solo_done
stopped_with_zero "kite agent stops on SIGINT or SIGTERM" "$AGENT_PID"
AGENT_PID=""

echo "$PASSED passed, $FAILED failed"
if [[ $FAILED -ne 0 ]]; then
  echo "--- sim log"; cat "$TMP/sim.log"; echo "--- agent log"; cat "$TMP/agent.log"
fi
[[ "$FAILED" -eq 0 ]]
