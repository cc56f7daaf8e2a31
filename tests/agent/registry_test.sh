#!/usr/bin/env bash
# Image pulls from a registry: Debian's docker-registry on loopback (plain HTTP, htpasswd
# auth) holds the project's busybox image; a `kite server` whose containerd reaches it
# through a hosts.toml in <data-dir>/agent/certs.d/ runs pods with the real kubectl:
#   - imagePullPolicy Never with the image absent: ErrImageNeverPull;
#   - no pull secret: ErrImagePull, then ImagePullBackOff (401 from the registry);
#   - an imagePullSecret (kubectl create secret docker-registry): the pod runs;
#   - with the registry stopped, IfNotPresent uses the present image and the pod runs,
#     while Always tries the registry and fails with ErrImagePull.
#
# Usage: tests/agent/registry_test.sh path/to/kite path/to/images-dir
set -uo pipefail

KITE=${1:?usage: $0 path/to/kite path/to/images-dir}
IMAGES=${2:?usage: $0 path/to/kite path/to/images-dir}
KITE=$(cd "$(dirname "$KITE")" && pwd)/$(basename "$KITE")
HERE=$(cd "$(dirname "$0")" && pwd)
REGISTRY_BIN=${KITE_DOCKER_REGISTRY:-/usr/bin/docker-registry}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/kite-reg-test-XXXXXX")
NODE_NAME=kite-reg-test
# A pod CIDR of its own, so tests running side by side never share a bridge or addresses.
OCTET=$(( ($$ % 200) + 20 ))
POD_CIDR="10.211.$OCTET.0/24"
REGISTRY_PID=""
source "$HERE/kite_server_lib.sh"

stop_registry() {
  if [[ -n "$REGISTRY_PID" ]] && kill -0 "$REGISTRY_PID" 2>/dev/null; then
    kill -TERM "$REGISTRY_PID" 2>/dev/null
    wait "$REGISTRY_PID" 2>/dev/null
  fi
  REGISTRY_PID=""
}
cleanup() {
  server_cleanup
  stop_registry
  rm -rf "$TMP"
}
trap cleanup EXIT

if [[ ! -x "$REGISTRY_BIN" ]]; then
  echo "$REGISTRY_BIN is missing (Debian package docker-registry; scripts/install-deps.sh)"
  exit 1
fi

# --- the registry: plain HTTP on a free loopback port, htpasswd (bcrypt) auth -------------------
REG_PORT=$(free_port)
REG="127.0.0.1:$REG_PORT"
REG_USER=kite
REG_PASSWORD="pw-$RANDOM$RANDOM"
# docker-registry accepts only bcrypt entries; libcrypt (through perl's crypt) makes them, so
# no htpasswd tool is needed. The salt is 22 characters of bcrypt's alphabet.
perl -e 'my @c = ("a".."z", "A".."Z", "0".."9", ".", "/");
         my $salt = join("", map { $c[int rand 64] } 1..22);
         print "$ARGV[0]:", crypt($ARGV[1], "\$2b\$05\$$salt"), "\n"' \
  "$REG_USER" "$REG_PASSWORD" >"$TMP/htpasswd"
[[ "$(<"$TMP/htpasswd")" == "$REG_USER:\$2b\$05\$"?* ]] || { echo "bcrypt failed: $(<"$TMP/htpasswd")"; exit 1; }
cat >"$TMP/registry.yml" <<YAML
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $TMP/registry
http:
  addr: $REG
  secret: kite-registry-test
auth:
  htpasswd:
    realm: kite-registry-test
    path: $TMP/htpasswd
YAML
start_registry() {
  "$REGISTRY_BIN" serve "$TMP/registry.yml" >>"$TMP/registry.log" 2>&1 &
  REGISTRY_PID=$!
  local deadline=$((SECONDS + 30))
  # Up when /v2/ answers (401 without credentials).
  until [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$REG/v2/")" == 401 ]]; do
    if ! kill -0 "$REGISTRY_PID" 2>/dev/null; then echo "registry died: $(tail -20 "$TMP/registry.log")"; exit 1; fi
    if ((SECONDS > deadline)); then echo "registry not up: $(tail -20 "$TMP/registry.log")"; exit 1; fi
    sleep 0.1
  done
}
start_registry
pass "registry up on $REG, anonymous /v2/ is 401"

IMAGE="$REG/test/busybox:1"
if DIGEST=$(python3 "$HERE/registry_push.py" "$IMAGES/busybox.tar" "http://$REG" test/busybox:1 \
              --user "$REG_USER" --password "$REG_PASSWORD" 2>"$TMP/push.err"); then
  pass "busybox pushed as $IMAGE ($DIGEST)"
else
  echo "push failed: $(cat "$TMP/push.err")"; exit 1
fi
NAME="anonymous manifest fetch is refused"
has 401 "$(curl -s -o /dev/null -w '%{http_code}' "http://$REG/v2/test/busybox/manifests/1")"

# containerd's registry host config (docs/hosts.md): plain HTTP for this host. Written before
# the server starts; containerd reads the folder at every pull anyway.
mkdir -p "$TMP/data/agent/certs.d/$REG"
cat >"$TMP/data/agent/certs.d/$REG/hosts.toml" <<TOML
server = "http://$REG"

[host."http://$REG"]
  capabilities = ["pull", "resolve"]
TOML

start_server
pass "server ready"
until_true "node registers and is Ready" 60 node_ready
NAME="generated containerd config points at certs.d"
has "config_path = \"$TMP/data/agent/certs.d\"" "$(cat "$TMP/data/agent/containerd/config.toml")"

# pod NAME POLICY [SECRET]: a pod running $IMAGE with that pull policy (and pull secret).
pod() {
  local secrets=""
  [[ -n "${3:-}" ]] && secrets="imagePullSecrets: [{name: $3}]"
  cat <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  terminationGracePeriodSeconds: 1
  $secrets
  containers:
  - name: main
    image: $IMAGE
    imagePullPolicy: $2
    command: [sh, -c, 'echo started; sleep 3600']
YAML
}
waiting_reason() { jp "pod/$1" '{.status.containerStatuses[0].state.waiting.reason}'; }
waiting_message() { jp "pod/$1" '{.status.containerStatuses[0].state.waiting.message}'; }
reason_is() { [[ "$(waiting_reason "$1")" == "$2" ]]; }
reason_in() { local r; r=$(waiting_reason "$1"); [[ "$r" == "$2" || "$r" == "$3" ]]; }
running() { [[ "$(jp "pod/$1" '{.status.phase}')" == Running ]]; }

# --- Never with the image absent -----------------------------------------------------------------
pod never-absent Never >"$TMP/never-absent.yaml"
k "create a Never pod before any pull" apply -f "$TMP/never-absent.yaml"; ok
until_true "Never without the image: ErrImageNeverPull" 60 reason_is never-absent ErrImageNeverPull
NAME="ErrImageNeverPull message"
has "Container image \"$IMAGE\" is not present with pull policy of Never" "$(waiting_message never-absent)"
k "the pod stays Pending" get pod never-absent -o 'jsonpath={.status.phase}'; has Pending

# --- no pull secret: the registry refuses ---------------------------------------------------------
pod anonymous IfNotPresent >"$TMP/anonymous.yaml"
k "create a pod without a pull secret" apply -f "$TMP/anonymous.yaml"; ok
until_true "without credentials: ErrImagePull or ImagePullBackOff" 60 \
  reason_in anonymous ErrImagePull ImagePullBackOff
NAME="the pull error says the registry wants credentials"
MESSAGE=$(waiting_message anonymous)
if [[ "$MESSAGE" == *401* || "$MESSAGE" == *nauthorized* ]]; then pass "$NAME"; else fail "$NAME: $MESSAGE"; fi
until_true "then ImagePullBackOff" 30 reason_is anonymous ImagePullBackOff
NAME="back-off message names the image and the last error"
MESSAGE=$(waiting_message anonymous)
has "Back-off pulling image \"$IMAGE\": ErrImagePull: " "$MESSAGE"
if [[ "$MESSAGE" == *401* || "$MESSAGE" == *nauthorized* ]]; then pass "$NAME (401)"; else fail "$NAME: $MESSAGE"; fi
k "kubectl get shows ImagePullBackOff" get pod anonymous; has ImagePullBackOff
kubectl delete pod anonymous --grace-period=1 --wait=false >/dev/null 2>&1

# --- with a pull secret ---------------------------------------------------------------------------
k "create a docker-registry secret" create secret docker-registry regcred --docker-server="$REG" \
  --docker-username="$REG_USER" --docker-password="$REG_PASSWORD"; ok
pod authed IfNotPresent regcred >"$TMP/authed.yaml"
k "create a pod with imagePullSecrets" apply -f "$TMP/authed.yaml"; ok
until_true "with the pull secret the pod runs" 90 running authed
k "imageID is the pulled image's" get pod authed -o 'jsonpath={.status.containerStatuses[0].imageID}'
has "sha256:"
k "the container's output" logs authed; has started
NAME="the registry served the manifest to the credentials"
grep -Eq '"(GET|HEAD) /v2/test/busybox/manifests/[^ ]+ HTTP/1.1" 200' "$TMP/registry.log" && pass "$NAME" ||
  fail "$NAME: $(grep manifests "$TMP/registry.log" | tail -5)"

# --- a registry name that only a hosts.toml makes reachable ------------------------------------
# containerd pulls from loopback over plain HTTP even without a hosts.toml, so this checks that
# the generated config_path is read: "registry.kite.test" (a reserved name that never
# resolves) is mapped to the registry by a file written while the server runs.
ALIAS="registry.kite.test:$REG_PORT"
mkdir -p "$TMP/data/agent/certs.d/$ALIAS"
cat >"$TMP/data/agent/certs.d/$ALIAS/hosts.toml" <<TOML
server = "http://$REG"

[host."http://$REG"]
  capabilities = ["pull", "resolve"]
TOML
kubectl create secret docker-registry aliascred --docker-server="$ALIAS" \
  --docker-username="$REG_USER" --docker-password="$REG_PASSWORD" >/dev/null
IMAGE="$ALIAS/test/busybox:1" pod aliased IfNotPresent aliascred >"$TMP/aliased.yaml"
k "create a pod whose registry is named in certs.d only" apply -f "$TMP/aliased.yaml"; ok
until_true "a hosts.toml added at run time is used (no restart)" 90 running aliased

# --- registry gone: IfNotPresent uses the present image, Always fails -----------------------------
stop_registry
pass "registry stopped"
pod cached IfNotPresent >"$TMP/cached.yaml"
pod always Always regcred >"$TMP/always.yaml"
k "create IfNotPresent and Always pods" apply -f "$TMP/cached.yaml" -f "$TMP/always.yaml"; ok
until_true "IfNotPresent with the image present runs without the registry" 60 running cached
until_true "Always with the registry down: ErrImagePull or ImagePullBackOff" 60 \
  reason_in always ErrImagePull ImagePullBackOff
NAME="the Always pull failed on the connection"
has "$REG" "$(waiting_message always)"
pod never-present Never >"$TMP/never-present.yaml"
k "create a Never pod with the image present" apply -f "$TMP/never-present.yaml"; ok
until_true "Never with the image present runs" 60 running never-present

echo "passed $PASSED, failed $FAILED"
[[ $FAILED -eq 0 ]]
