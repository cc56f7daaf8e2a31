#!/usr/bin/env bash
# Runs the built kite binary as a user would: help and version texts, usage errors and
# their exit status, and a server that starts, keeps its token, and stops on SIGTERM.
#
# Usage: tests/cli_integration_test.sh path/to/kite
set -euo pipefail

KITE=${1:?usage: $0 path/to/kite}
KITE=$(cd "$(dirname "$KITE")" && pwd)/$(basename "$KITE")
TMP=$(mktemp -d "${TMPDIR:-/tmp}/kite-cli-test-XXXXXX")
SERVER_PID=""
PASSED=0
FAILED=0

cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

# free_port: a TCP port on loopback that nothing listens on right now.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pass() { PASSED=$((PASSED + 1)); echo "ok   $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $1"; }

# run NAME EXPECTED_STATUS ARGS...: runs kite, keeping stdout in $OUT and stderr in $ERR.
run() {
  local name=$1 expected=$2
  shift 2
  local status=0
  "$KITE" "$@" >"$TMP/out" 2>"$TMP/err" || status=$?
  OUT=$(<"$TMP/out")
  ERR=$(<"$TMP/err")
  if [[ "$status" -ne "$expected" ]]; then
    fail "$name: exit status $status, want $expected; stderr: $ERR"
    return 1
  fi
  return 0
}

# expect NAME TEXT HAYSTACK: HAYSTACK contains TEXT.
expect() {
  if [[ "$3" == *"$2"* ]]; then pass "$1"; else fail "$1: want \"$2\" in: $3"; fi
}

# server_alive: the background server is running (a zombie, exited but not yet waited
# for, counts as gone; kill -0 would still succeed on it).
server_alive() {
  [[ -n "$SERVER_PID" && -r /proc/$SERVER_PID/stat ]] || return 1
  local stat
  { stat=$(</proc/$SERVER_PID/stat); } 2>/dev/null || return 1
  [[ "${stat##*) }" != Z* ]]
}

# wait_for NAME SECONDS COMMAND...: polls COMMAND every 0.1 s until it succeeds.
wait_for() {
  local name=$1 deadline=$((SECONDS + $2))
  shift 2
  until "$@"; do
    if ((SECONDS >= deadline)); then
      fail "$name: timed out"
      return 1
    fi
    if [[ -n "$SERVER_PID" ]] && ! server_alive; then
      fail "$name: the server exited early: $(<"$TMP/server.err")"
      return 1
    fi
    sleep 0.1
  done
}

# start_server NAME ARGS... --https-listen-port=PORT: starts `kite server ARGS...` in the
# background and waits until it has written its token file, created its store and bound its
# port. The port must be the last argument: free_port's port can be taken by another
# process before the server binds it, and then the server is started once more on another.
start_server() {
  local name=$1
  shift
  local attempt deadline
  for attempt in 1 2; do
    # The control plane only: these checks are about flags and the store, not nodes.
    "$KITE" server --disable-agent "$@" >"$TMP/server.out" 2>"$TMP/server.err" &
    SERVER_PID=$!
    wait_for "$name: token file and store appear" 20 \
      test -s "$DATA/server/token" -a -f "$DATA/server/db/state.db" || return 1
    deadline=$((SECONDS + 20))
    until grep -q "API server listening" "$TMP/server.err"; do
      if ! server_alive; then
        if [[ $attempt -eq 1 ]] && grep -q "Address already in use" "$TMP/server.err"; then
          wait "$SERVER_PID" 2>/dev/null || true
          set -- "${@:1:$#-1}" "--https-listen-port=$(free_port)"
          continue 2
        fi
        fail "$name: the server exited early: $(<"$TMP/server.err")"
        return 1
      fi
      if ((SECONDS >= deadline)); then
        fail "$name: not listening after 20 s"
        return 1
      fi
      sleep 0.1
    done
    return 0
  done
}

# stop_server NAME [SIGNAL]: SIGTERM (or SIGNAL), then the server must exit with status 0
# within 20 s.
stop_server() {
  local name=$1 signal=${2:-TERM} status=0 deadline=$((SECONDS + 20))
  if ! kill -"$signal" "$SERVER_PID" 2>/dev/null; then
    wait "$SERVER_PID" || status=$?
    SERVER_PID=""
    fail "$name: the server had exited (status $status) before SIG$signal; stderr: $(<"$TMP/server.err")"
    return
  fi
  while server_alive && ((SECONDS < deadline)); do sleep 0.1; done
  if server_alive; then
    fail "$name: still running 20 s after SIG$signal"
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  wait "$SERVER_PID" || status=$?
  SERVER_PID=""
  if [[ "$status" -eq 0 ]]; then pass "$name: exit status 0 after SIG$signal"; else
    fail "$name: exit status $status; stderr: $(<"$TMP/server.err")"
  fi
}

# --- texts ----------------------------------------------------------------------------
if run "--version" 0 --version; then expect "--version" "kite version v0.1.0" "$OUT"; fi
if run "--help" 0 --help; then
  for cmd in server agent sim kubectl; do expect "--help lists $cmd" "  $cmd " "$OUT"; done
fi
if run "server --help" 0 server --help; then
  expect "server --help lists --data-dir" "--data-dir" "$OUT"
  expect "server --help shows the port default" "6443" "$OUT"
fi
if run "agent --help" 0 agent --help; then expect "agent --help lists --server" "--server" "$OUT"; fi
if run "sim --help" 0 sim --help; then expect "sim --help lists --nodes" "--nodes" "$OUT"; fi

# --- usage errors: exit status 2, the bad word named on stderr ----------------------------
if run "unknown command" 2 bogus; then expect "unknown command named" '"bogus"' "$ERR"; fi
if run "unknown top-level flag" 2 --bogus; then expect "unknown top-level flag named" '"--bogus"' "$ERR"; fi
if run "unknown server flag" 2 server --bogus; then
  expect "unknown server flag named" '"--bogus"' "$ERR"
  expect "unknown server flag points at help" "kite server --help" "$ERR"
fi
if run "agent without --server" 2 agent --token t; then expect "agent names --server" "--server" "$ERR"; fi
if run "agent without flags" 2 agent; then expect "agent without flags names --server" "--server" "$ERR"; fi
if run "bad port" 2 server --https-listen-port abc; then expect "bad port named" '"abc"' "$ERR"; fi
if run "port out of range" 2 server --https-listen-port=70000; then expect "port out of range named" '"70000"' "$ERR"; fi
if run "bad mode" 2 server --write-kubeconfig-mode 999; then expect "bad mode named" '"999"' "$ERR"; fi
if run "bad cidr" 2 server --cluster-cidr 10.42.0.0; then expect "bad cidr named" '"10.42.0.0"' "$ERR"; fi
if run "missing value" 2 server --data-dir; then expect "missing value named" "--data-dir" "$ERR"; fi
if run "missing --config file" 2 server --config "$TMP/none.yaml"; then
  expect "missing --config file named" "$TMP/none.yaml" "$ERR"
fi
echo "bogus-key: 1" >"$TMP/bad.yaml"
if run "unknown config key" 2 server --config "$TMP/bad.yaml"; then
  expect "unknown config key named" '"bogus-key"' "$ERR"
  expect "unknown config key names the file" "$TMP/bad.yaml" "$ERR"
fi
printf 'data-dir: [1, 2\n' >"$TMP/malformed.yaml"
if run "malformed config" 2 server --config "$TMP/malformed.yaml"; then
  expect "malformed config gives a line" "line" "$ERR"
fi
if run "sim with zero nodes" 2 sim --server https://127.0.0.1:1 --token t --nodes 0; then
  expect "sim names --nodes" "--nodes" "$ERR"
fi
if run "bad runtime" 2 agent --server https://127.0.0.1:1 --token t --runtime docker; then
  expect "bad runtime named" '"docker"' "$ERR"
fi
if run "agent needs the cluster CA" 2 agent --server https://127.0.0.1:1 --token t --runtime fake; then
  expect "agent names --server-ca" "--server-ca" "$ERR"
fi

# --- kubectl: not on the PATH -> 127 -------------------------------------------------------
if PATH="$TMP/empty-path" run "kubectl missing" 127 kubectl version; then
  expect "kubectl missing is said" "kubectl" "$ERR"
fi

# --- a server starts, keeps its token, stops on SIGTERM -------------------------------------
DATA="$TMP/data"
if start_server "first start" --data-dir "$DATA" --write-kubeconfig "$TMP/kubeconfig" --bind-address 127.0.0.1 --https-listen-port="$(free_port)"; then
  pass "first start: ready"
  expect "first start prints the data dir" "$DATA" "$(cat "$TMP/server.err")"
  expect "first start prints the endpoint" "sqlite://$DATA/server/db/state.db" "$(cat "$TMP/server.err")"
  MODE=$(stat -c %a "$DATA/server/token")
  if [[ "$MODE" == "600" ]]; then pass "token file mode 600"; else fail "token file mode $MODE"; fi
  TOKEN=$(cat "$DATA/server/token")
  if [[ "$TOKEN" =~ ^[0-9a-f]{64}$ ]]; then pass "token is 64 hex digits"; else fail "token: $TOKEN"; fi
  stop_server "first start"

  if start_server "second start" --data-dir "$DATA" --write-kubeconfig "$TMP/kubeconfig" --bind-address 127.0.0.1 --https-listen-port="$(free_port)"; then
    if [[ "$(cat "$DATA/server/token")" == "$TOKEN" ]]; then pass "second start reuses the token"; else
      fail "second start replaced the token"
    fi
    stop_server "second start"
  fi

  printf 'data-dir: %s\ntoken: from-config\n' "$DATA" >"$TMP/config.yaml"
  if start_server "start with --config" --config "$TMP/config.yaml" --write-kubeconfig "$TMP/kubeconfig" --bind-address 127.0.0.1 --https-listen-port="$(free_port)"; then
    if [[ "$(cat "$DATA/server/token")" == "from-config" ]]; then pass "the config file's token is written"; else
      fail "token after --config: $(cat "$DATA/server/token")"
    fi
    stop_server "start with --config" INT
  fi
fi

# A store that will not open: exit status 1, the reason on stderr.
if run "unopenable store" 1 server --data-dir "$TMP/data2" --datastore-endpoint nosuch://x; then
  expect "unopenable store is named" "nosuch://x" "$ERR"
fi

echo "$PASSED passed, $FAILED failed"
[[ "$FAILED" -eq 0 ]]
