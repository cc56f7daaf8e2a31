#!/usr/bin/env bash
# Real pods: a `kite server` with its embedded agent, which starts its own containerd, runs
# the project's busybox test image (imported from the air-gap folder) and is driven by the
# real kubectl: a Deployment serving HTTP on its pod IP, restarts with back-off, liveness
# and readiness probes, env and configMap/secret volumes, a shared emptyDir, a local-path
# PersistentVolumeClaim whose data outlives its pod, logs -f, exec
# with exit codes, cp, attach, port-forward, and a server restart that leaves the pods
# running.
#
# Usage: tests/agent/containerd_test.sh path/to/kite path/to/images-dir
set -uo pipefail

KITE=${1:?usage: $0 path/to/kite path/to/images-dir}
IMAGES=${2:?usage: $0 path/to/kite path/to/images-dir}
KITE=$(cd "$(dirname "$KITE")" && pwd)/$(basename "$KITE")
TMP=$(mktemp -d "${TMPDIR:-/tmp}/kite-ctr-test-XXXXXX")
PF_PID=""
NODE_NAME=kite-ctr-test
# A pod CIDR of its own, so tests running side by side never share a bridge or addresses.
OCTET=$(( ($$ % 200) + 20 ))
POD_CIDR="10.210.$OCTET.0/24"
# shellcheck source=tests/agent/kite_server_lib.sh
source "$(dirname "$0")/kite_server_lib.sh"

cleanup() {
  [[ -n "$PF_PID" ]] && kill "$PF_PID" 2>/dev/null
  server_cleanup
  rm -rf "$TMP"
}
trap cleanup EXIT

mkdir -p "$TMP/data/agent/images"
cp "$IMAGES/busybox.tar" "$TMP/data/agent/images/"
start_server
pass "server ready"

until_true "node registers and is Ready" 60 node_ready
k "node runtime is containerd" get node kite-ctr-test -o jsonpath='{.status.nodeInfo.containerRuntimeVersion}'
has "containerd://"

# --- a Deployment serving HTTP on its pod IP ---------------------------------------------------
cat >"$TMP/web.yaml" <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: httpd
        image: kite.local/busybox:1
        command: [httpd, -f, -p, "8080", -h, /var/www]
        ports: [{containerPort: 8080}]
        readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
YAML
k "create deployment" apply -f "$TMP/web.yaml"; ok
web_available() { [[ "$(jp deploy/web '{.status.availableReplicas}')" == 2 ]]; }
until_true "deployment web has 2 available pods" 120 web_available
WEB_POD=$(kubectl get pods -l app=web -o jsonpath='{.items[0].metadata.name}')
WEB_IP=$(jp "pod/$WEB_POD" '{.status.podIP}')
NAME="pod IP in the node's pod CIDR"
has "10.210.$OCTET." "$WEB_IP"
NAME="HTTP on the pod IP"
has "kite busybox" "$(curl -s --max-time 5 "http://$WEB_IP:8080/")"
k "pod shows Running with its node" get pod "$WEB_POD" -o wide; has Running; has kite-ctr-test

# --- exec and logs ----------------------------------------------------------------------------
k "exec runs a command" exec "$WEB_POD" -- echo hello-exec; ok; has hello-exec
k "exec returns the exit code" exec "$WEB_POD" -- sh -c 'exit 3'
NAME="exec exit code 3"; [[ $RC -eq 3 ]] && pass "$NAME" || fail "$NAME: got $RC ($ERR)"
k "exec with stdin" exec -i "$WEB_POD" -- cat < <(echo piped-in); has piped-in

cat >"$TMP/logger.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: logger}
spec:
  containers:
  - name: main
    image: kite.local/busybox:1
    command: [sh, -c, 'i=0; while true; do echo line-\$i; i=\$((i+1)); sleep 0.2; done']
YAML
k "create logger" apply -f "$TMP/logger.yaml"; ok
logger_running() { [[ "$(jp pod/logger '{.status.phase}')" == Running ]]; }
until_true "logger Running" 60 logger_running
k "logs --tail" logs logger --tail 1; ok; has "line-"
timeout 3 kubectl logs -f logger >"$TMP/follow" 2>&1
NAME="logs -f streams new lines"
FOLLOWED=$(wc -l <"$TMP/follow")
((FOLLOWED >= 5)) && pass "$NAME ($FOLLOWED lines)" || fail "$NAME: $(cat "$TMP/follow")"

echo copied-content >"$TMP/cp-src"
k "cp into a pod (exec + tar)" cp "$TMP/cp-src" "logger:/tmp/cp-dst" -c main; ok
k "cp out of a pod" cp "logger:/tmp/cp-dst" "$TMP/cp-back" -c main; ok
NAME="cp round trip"; has copied-content "$(cat "$TMP/cp-back" 2>/dev/null)"
timeout 3 kubectl attach logger -c main >"$TMP/attach" 2>&1
NAME="attach streams the container's output"
grep -q "line-" "$TMP/attach" && pass "$NAME" || fail "$NAME: $(cat "$TMP/attach")"

# --- port-forward ------------------------------------------------------------------------------
LOCAL=$(free_port)
kubectl port-forward "pod/$WEB_POD" "$LOCAL:8080" >"$TMP/pf.log" 2>&1 &
PF_PID=$!
pf_serves() { curl -s --max-time 2 "http://127.0.0.1:$LOCAL/" | grep -q "kite busybox"; }
until_true "port-forward carries a request" 30 pf_serves
kill "$PF_PID" 2>/dev/null; PF_PID=""

# --- restarts with back-off --------------------------------------------------------------------
cat >"$TMP/crash.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: crasher}
spec:
  containers:
  - name: main
    image: kite.local/busybox:1
    command: [sh, -c, 'echo bye; exit 2']
YAML
k "create crasher" apply -f "$TMP/crash.yaml"; ok
restarted_twice() { (( $(jp pod/crasher '{.status.containerStatuses[0].restartCount}') >= 2 )); }
until_true "exiting container restarts (restartCount grows)" 90 restarted_twice
crash_loop() { [[ "$(jp pod/crasher '{.status.containerStatuses[0].state.waiting.reason}')" == CrashLoopBackOff ]]; }
until_true "back-off shows CrashLoopBackOff" 60 crash_loop
k "lastState has the exit code" get pod crasher -o jsonpath='{.status.containerStatuses[0].lastState.terminated.exitCode}'; has 2

# --- probes --------------------------------------------------------------------------------------
cat >"$TMP/probes.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: probed}
spec:
  containers:
  - name: live
    image: kite.local/busybox:1
    command: [sh, -c, 'touch /tmp/healthy; sleep 3600']
    livenessProbe: {exec: {command: [cat, /tmp/healthy]}, periodSeconds: 1, failureThreshold: 2}
  - name: gated
    image: kite.local/busybox:1
    command: [sh, -c, 'sleep 3600']
    readinessProbe: {exec: {command: [cat, /tmp/ready]}, periodSeconds: 1}
YAML
k "create probed" apply -f "$TMP/probes.yaml"; ok
probed_running() { [[ "$(jp pod/probed '{.status.phase}')" == Running ]]; }
until_true "probed Running" 60 probed_running
k "readiness gates Ready" get pod probed -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}'; has False
kubectl exec probed -c gated -- touch /tmp/ready >/dev/null 2>&1
probed_ready() { [[ "$(jp pod/probed '{.status.conditions[?(@.type=="Ready")].status}')" == True ]]; }
until_true "ready once the readiness probe passes" 30 probed_ready
kubectl exec probed -c live -- rm /tmp/healthy >/dev/null 2>&1
live_restarted() { (( $(jp pod/probed '{.status.containerStatuses[?(@.name=="live")].restartCount}') >= 1 )); }
until_true "failing liveness probe restarts the container" 60 live_restarted

# --- env, configMap/secret volumes, shared emptyDir ---------------------------------------------
kubectl create configmap settings --from-literal=color=blue --from-literal=size=large >/dev/null
kubectl create secret generic creds --from-literal=password=s3cret >/dev/null
cat >"$TMP/config.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: configured}
spec:
  volumes:
  - {name: settings, configMap: {name: settings}}
  - {name: creds, secret: {secretName: creds}}
  - {name: shared, emptyDir: {}}
  containers:
  - name: main
    image: kite.local/busybox:1
    command: [sh, -c, 'echo from-main > /shared/note; sleep 3600']
    env:
    - {name: COLOR, valueFrom: {configMapKeyRef: {name: settings, key: color}}}
    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: GREETING, value: "hello \$(POD_NAME)"}
    volumeMounts:
    - {name: settings, mountPath: /etc/settings}
    - {name: creds, mountPath: /etc/creds, readOnly: true}
    - {name: shared, mountPath: /shared}
  - name: side
    image: kite.local/busybox:1
    command: [sh, -c, 'sleep 3600']
    volumeMounts: [{name: shared, mountPath: /data}]
YAML
k "create configured" apply -f "$TMP/config.yaml"; ok
configured_running() { [[ "$(jp pod/configured '{.status.phase}')" == Running ]]; }
until_true "configured Running" 60 configured_running
k "env from configMap, fieldRef and expansion" exec configured -c main -- sh -c 'echo $COLOR $POD_NAME $GREETING'
has "blue configured hello configured"
k "configMap volume" exec configured -c main -- cat /etc/settings/size; has large
k "secret volume" exec configured -c main -- cat /etc/creds/password; has s3cret
k "emptyDir shared between containers" exec configured -c side -- cat /data/note; has from-main
kubectl patch configmap settings -p '{"data":{"size":"huge"}}' >/dev/null
cm_updated() { kubectl exec configured -c main -- cat /etc/settings/size | grep -q huge; }
until_true "configMap volume updated in place" 120 cm_updated

# --- a server restart leaves pods running ------------------------------------------------------
BEFORE=$(jp "pod/$WEB_POD" '{.status.containerStatuses[0].containerID}')
stop_server
NAME="pod still serves while the server is down"
has "kite busybox" "$(curl -s --max-time 5 "http://$WEB_IP:8080/")"
start_server
until_true "node Ready again after restart" 60 node_ready
same_container() { [[ "$(jp "pod/$WEB_POD" '{.status.containerStatuses[0].containerID}')" == "$BEFORE" ]] &&
  [[ "$(jp "pod/$WEB_POD" '{.status.containerStatuses[0].ready}')" == true ]]; }
until_true "same container, still ready after the restart" 60 same_container
k "restart count unchanged" get pod "$WEB_POD" -o jsonpath='{.status.containerStatuses[0].restartCount}'; has 0

# --- port-forward with the official Python client (WebSocket channels) -------------------------
# Debian's python3-kubernetes: kubernetes.stream.portforward speaks v4.channel.k8s.io through
# the API server to the agent: two channels per port, each opened with the port number, one
# connection per port. 8080 carries an HTTP request; nothing listens on 9999 (its error
# channel says so). The agent closes the WebSocket once both are over, ending the socket.
cat >"$TMP/python_pf.py" <<'PY'
import sys, time
from kubernetes import client, config
from kubernetes.stream import portforward
config.load_kube_config(config_file=sys.argv[1])
api = client.CoreV1Api()
pf = portforward(api.connect_get_namespaced_pod_portforward, sys.argv[2], "default",
                 ports="8080,9999")
sock = pf.socket(8080)
sock.setblocking(True)
sock.sendall(b"GET / HTTP/1.0\r\nHost: web\r\n\r\n")
reply = b""
while True:
    data = sock.recv(4096)
    if not data:
        break
    reply += data
sock.close()
deadline = time.time() + 10
while pf.error(9999) is None and time.time() < deadline:
    time.sleep(0.1)
print("REPLY:", reply.decode(errors="replace").splitlines()[0] if reply else "")
print("BODY-HAS-KITE:", b"kite busybox" in reply)
print("ERROR-8080:", pf.error(8080))
print("ERROR-9999:", pf.error(9999))
PY
NAME="python client port-forward"
PY_OUT=$(timeout 60 /usr/bin/python3 "$TMP/python_pf.py" "$KUBECONFIG" "$WEB_POD" 2>&1)
has "REPLY: HTTP/1.1 200 OK" "$PY_OUT"
has "BODY-HAS-KITE: True" "$PY_OUT"
has "ERROR-8080: None" "$PY_OUT"
has "ERROR-9999: error forwarding port 9999" "$PY_OUT"
NAME="python client port-forward ends cleanly"
[[ "$PY_OUT" != *Traceback* ]] && pass "$NAME" || fail "$NAME: $PY_OUT"

# --- a PersistentVolumeClaim (local-path) keeps its data across pods -----------------------------
cat >"$TMP/pvc.yaml" <<YAML
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
YAML
cat >"$TMP/writer.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: writer}
spec:
  volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
  containers:
  - name: main
    image: kite.local/busybox:1
    command: [sh, -c, 'test -f /data/note || echo written-\$(date +%s) > /data/note; sleep 3600']
    volumeMounts: [{name: data, mountPath: /data}]
YAML
k "create a claim without a class" apply -f "$TMP/pvc.yaml"; ok
k "the claim gets the default class" get pvc data -o jsonpath='{.spec.storageClassName}'; has local-path
k "the claim waits for its first consumer" get pvc data -o jsonpath='{.status.phase}'; has Pending
k "create a pod writing into the claim" apply -f "$TMP/writer.yaml"; ok
writer_running() { [[ "$(jp pod/writer '{.status.phase}')" == Running ]]; }
until_true "writer Running" 90 writer_running
k "the claim is Bound" get pvc data -o jsonpath='{.status.phase}'; has Bound
PV=$(jp pvc/data '{.spec.volumeName}')
PV_DIR=$(jp "pv/$PV" '{.spec.hostPath.path}')
NAME="the volume lives under <data-dir>/storage"; has "$TMP/data/storage/pvc-" "$PV_DIR"
k "the pod wrote its file" exec writer -- cat /data/note; has written-
NOTE=$OUT
NAME="the file is in the volume's directory"; has "$NOTE" "$(cat "$PV_DIR/note" 2>/dev/null)"
k "delete the writer" delete pod writer --grace-period=1; ok
k "create the writer again" apply -f "$TMP/writer.yaml"; ok
until_true "writer Running again" 90 writer_running
k "the file outlived the pod" exec writer -- cat /data/note; has "$NOTE"
k "delete the writer again" delete pod writer --grace-period=1; ok
k "delete the claim" delete pvc data --timeout=60s; ok
pv_gone() { ! kubectl get pv "$PV" >/dev/null 2>&1; }
until_true "the PV goes with the claim" 60 pv_gone
NAME="the volume's directory goes with the PV"
[[ -n "$PV_DIR" && ! -e "$PV_DIR" ]] && pass "$NAME" || fail "$NAME: '$PV_DIR' still there"

echo "passed $PASSED, failed $FAILED"
[[ $FAILED -eq 0 ]]
