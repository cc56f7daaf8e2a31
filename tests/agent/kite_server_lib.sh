# Helpers for scripts that drive a real `kite server` (with its embedded agent and its own
# containerd) with the real kubectl. Source it after setting:
#   KITE        absolute path of the kite binary
#   TMP         the test's temporary folder (the server's data dir is $TMP/data)
#   NODE_NAME   the node's name
#   POD_CIDR    the node's pod CIDR; its bridge is kite<third octet> (OCTET)
# It sets KUBECONFIG, PORT and KUBELET_PORT, and counts PASSED / FAILED.
# Functions: pass, fail, free_port, k (run kubectl, keep OUT/ERR/RC), ok, has, until_true,
# jp, start_server, stop_server, server_cleanup (pods, server, leftover containerd and
# shims, the bridge, mounts; not $TMP itself).

PASSED=0
FAILED=0
SERVER_PID=""

pass() { PASSED=$((PASSED + 1)); echo "ok   $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $1"; }
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
export KUBECONFIG="$TMP/kubeconfig"
PORT=$(free_port)
KUBELET_PORT=$(free_port)

# k NAME ARGS...: runs kubectl ARGS; OUT, ERR and RC hold what it printed and returned.
k() {
  local name=$1
  shift
  RC=0
  kubectl "$@" >"$TMP/out" 2>"$TMP/err" || RC=$?
  OUT=$(<"$TMP/out")
  ERR=$(<"$TMP/err")
  NAME=$name
}
ok() { if [[ $RC -eq 0 ]]; then pass "$NAME"; else fail "$NAME: exit $RC: $ERR"; fi; }
# has TEXT [WHERE]: WHERE (default: the last k's output) contains TEXT.
has() {
  local where=${2-$OUT}
  if [[ "$where" == *"$1"* ]]; then pass "$NAME: has \"$1\""; else fail "$NAME: want \"$1\" in: $where (stderr: ${ERR:-})"; fi
}
# until_true NAME SECONDS CMD...: polls CMD until it succeeds (a readiness check, not a sleep).
until_true() {
  local name=$1 limit=$2
  shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS > deadline)); then fail "$name (waited ${limit}s)"; return 1; fi
    sleep 0.2
  done
  pass "$name"
}
jp() { kubectl get "$1" -o "jsonpath=$2" 2>/dev/null; }

start_server() {
  "$KITE" server --data-dir "$TMP/data" --bind-address 127.0.0.1 --https-listen-port "$PORT" \
    --kubelet-port "$KUBELET_PORT" --node-name "$NODE_NAME" --node-pod-cidr "$POD_CIDR" \
    --write-kubeconfig "$KUBECONFIG" >>"$TMP/server.log" 2>&1 &
  SERVER_PID=$!
  local deadline=$((SECONDS + 60))
  until [[ -s "$KUBECONFIG" ]] && kubectl get --raw /readyz >/dev/null 2>&1; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then echo "server died: $(tail -50 "$TMP/server.log")"; exit 1; fi
    if ((SECONDS > deadline)); then echo "server not ready: $(tail -50 "$TMP/server.log")"; exit 1; fi
    sleep 0.1
  done
}
stop_server() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
node_ready() { [[ "$(jp "node/$NODE_NAME" '{.status.conditions[?(@.type=="Ready")].status}')" == True ]]; }

server_cleanup() {
  # Pods outlive the server by design (as with k3s), so let the agent remove them first.
  if [[ -n "$SERVER_PID" ]]; then
    kubectl delete deployments --all --wait=false >/dev/null 2>&1
    timeout 60 kubectl delete pods --all --grace-period=1 >/dev/null 2>&1
  fi
  stop_server
  # Whatever is left (a failed test or a crashed server): this data dir's containerd, its
  # shims and their containers (the shim is their subreaper). All name $TMP/data.
  local pid
  for pid in $(pgrep -f -- "$TMP/data/agent/containerd"); do
    pkill -KILL -P "$pid" 2>/dev/null
    kill -KILL "$pid" 2>/dev/null
  done
  ip link del "kite$OCTET" 2>/dev/null
  grep " $TMP" /proc/mounts | cut -d' ' -f2 | sort -r | xargs -r -n1 umount -l 2>/dev/null
}
