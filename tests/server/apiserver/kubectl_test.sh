#!/usr/bin/env bash
# Drives a real `kite server --disable-agent` with the real kubectl (the machine's
# dispatcher picks kubectl 1.32 from the server's /version): discovery, create (JSON and
# protobuf bodies), apply twice, get in every output form, label, annotate, the three patch
# types, delete, watch, auth can-i, and the errors users see.
#
# Usage: tests/server/apiserver/kubectl_test.sh path/to/kite
set -uo pipefail

KITE=${1:?usage: $0 path/to/kite}
KITE=$(cd "$(dirname "$KITE")" && pwd)/$(basename "$KITE")
TMP=$(mktemp -d "${TMPDIR:-/tmp}/kite-kubectl-test-XXXXXX")
SERVER_PID=""
PASSED=0
FAILED=0

cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

pass() { PASSED=$((PASSED + 1)); echo "ok   $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $1"; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

export KUBECONFIG="$TMP/kubeconfig"
PORT=$(free_port)

# k NAME ARGS...: runs kubectl; stdout in $OUT, stderr in $ERR, exit status in $RC.
k() {
  local name=$1
  shift
  RC=0
  kubectl "$@" >"$TMP/out" 2>"$TMP/err" || RC=$?
  OUT=$(<"$TMP/out")
  ERR=$(<"$TMP/err")
  NAME=$name
}
# ok: the last kubectl succeeded.
ok() { if [[ $RC -eq 0 ]]; then pass "$NAME"; else fail "$NAME: exit $RC: $ERR"; fi; }
# has TEXT [WHERE]: the last kubectl's stdout (or WHERE) contains TEXT.
has() {
  local where=${2:-$OUT}
  if [[ "$where" == *"$1"* ]]; then pass "$NAME: has \"$1\""; else fail "$NAME: want \"$1\" in: $where (stderr: $ERR)"; fi
}
hasnt() {
  if [[ "$OUT" != *"$1"* ]]; then pass "$NAME: lacks \"$1\""; else fail "$NAME: did not want \"$1\" in: $OUT"; fi
}
failed_with() {
  if [[ $RC -ne 0 && "$ERR" == *"$1"* ]]; then pass "$NAME: fails with \"$1\""; else
    fail "$NAME: want failure with \"$1\"; exit $RC, stdout: $OUT, stderr: $ERR"
  fi
}

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

MODE=$(stat -c %a "$KUBECONFIG")
[[ "$MODE" == 600 ]] && pass "kubeconfig mode 600" || fail "kubeconfig mode $MODE"

# --- identity, version, discovery ------------------------------------------------------------
k "version" version -o json; ok; has '"minor": "32"'; has '"gitVersion": "v1.32'
NAME="anonymous is refused"
ANON=$(curl -sk -w ' %{http_code}' "https://127.0.0.1:$PORT/api/v1/namespaces")
has '"reason":"Unauthorized"' "$ANON"; has ' 401' "$ANON"
NAME="anonymous may read /version"
has '"minor":"32"' "$(curl -sk "https://127.0.0.1:$PORT/version")"
k "readyz verbose" get --raw '/readyz?verbose'; ok; has "readyz check passed"
k "api-resources" api-resources; ok; has "configmaps"; has "deployments"; has "cm "; has "deploy"
k "api-resources --namespaced=false" api-resources --namespaced=false -o name; ok; has "namespaces"; hasnt "configmaps"
k "builtin namespaces" get namespaces; ok; has "default"; has "kube-system"; has "kube-node-lease"; has "Active"

# --- create (kubectl sends protobuf here) ---------------------------------------------------
k "create namespace" create namespace demo; ok; has "namespace/demo created"
k "create configmap" create configmap settings -n demo --from-literal=color=blue --from-literal=size=9; ok
has "configmap/settings created"
k "get configmap jsonpath" get configmap settings -n demo -o jsonpath='{.data.color}'; ok; has "blue"
k "create secret" create secret generic creds -n demo --from-literal=password=s3cr3t; ok
k "secret data is base64" get secret creds -n demo -o jsonpath='{.data.password}'; ok; has "czNjcjN0"
k "create deployment" create deployment web -n demo --image=nginx:1.27 --replicas=2; ok
k "deployment replicas" get deploy web -n demo -o jsonpath='{.spec.replicas}'; ok; has "2"
k "create job" create job once -n demo --image=busybox -- /bin/true; ok
k "duplicate create" create configmap settings -n demo --from-literal=a=b
failed_with 'configmaps "settings" already exists'
k "create in a missing namespace" create configmap x -n nowhere --from-literal=a=b
failed_with 'namespaces "nowhere" not found'
k "invalid name" create configmap Bad_Name -n demo --from-literal=a=b
failed_with "Invalid value"

# --- get in its forms -------------------------------------------------------------------------
k "get table" get configmaps -n demo; ok; has "NAME"; has "DATA"; has "settings"
k "get -o wide deployments" get deployments -n demo -o wide; ok; has "READY"; has "UP-TO-DATE"; has "nginx:1.27"
k "get -o yaml" get configmap settings -n demo -o yaml; ok; has "resourceVersion:"; has "uid:"; has "color: blue"
k "get -o json" get namespace demo -o json; ok; has '"phase": "Active"'
k "custom columns" get configmaps -n demo -o custom-columns=N:.metadata.name,C:.data.color; ok; has "settings"; has "blue"
k "get missing" get configmap nope -n demo; failed_with 'configmaps "nope" not found'
k "get all namespaces" get configmaps -A; ok; has "demo"
k "describe" describe configmap settings -n demo; ok; has "color"

# --- apply ------------------------------------------------------------------------------------
cat >"$TMP/app.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
  namespace: demo
  labels:
    app: shop
data:
  mode: production
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
  namespace: demo
spec:
  replicas: 1
  selector:
    matchLabels:
      app: shop
  template:
    metadata:
      labels:
        app: shop
    spec:
      containers:
      - name: app
        image: nginx:1.26
        ports:
        - containerPort: 80
YAML
k "apply" apply -f "$TMP/app.yaml"; ok; has "configmap/app-config created"; has "deployment.apps/shop created"
k "apply again" apply -f "$TMP/app.yaml"; ok; has "configmap/app-config unchanged"; has "deployment.apps/shop unchanged"
sed -i 's/nginx:1.26/nginx:1.27/; s/mode: production/mode: staging/' "$TMP/app.yaml"
k "diff shows the change" diff -f "$TMP/app.yaml"
if [[ $RC -eq 1 ]]; then pass "diff exits 1 on a difference"; else fail "diff exit $RC: $ERR"; fi
has "image: nginx:1.27"
k "apply a change" apply -f "$TMP/app.yaml"; ok; has "configmap/app-config configured"; has "deployment.apps/shop configured"
k "applied image" get deploy shop -n demo -o jsonpath='{.spec.template.spec.containers[0].image}'; ok; has "nginx:1.27"
k "generation counts spec changes" get deploy shop -n demo -o jsonpath='{.metadata.generation}'; ok; has "2"

cat >"$TMP/unknown.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: typo
  namespace: demo
datta:
  a: b
YAML
k "strict field validation" apply -f "$TMP/unknown.yaml" --validate=strict; failed_with 'unknown field "datta"'
k "nothing stored on a strict failure" get configmap typo -n demo; failed_with "not found"
k "unknown fields dropped with --validate=false" apply -f "$TMP/unknown.yaml" --validate=false; ok
k "dropped field" get configmap typo -n demo -o jsonpath='{.datta}{.metadata.name}'; ok; has "typo"; hasnt '"a"'

cat >"$TMP/ssa.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: ssa
  namespace: demo
data:
  owner: server-side
YAML
k "apply --server-side" apply --server-side -f "$TMP/ssa.yaml"; ok; has "configmap/ssa serverside-applied"
sed -i 's/owner: server-side/owner: changed/' "$TMP/ssa.yaml"
k "apply --server-side again" apply --server-side -f "$TMP/ssa.yaml"; ok
k "server-side applied value" get configmap ssa -n demo -o jsonpath='{.data.owner}'; ok; has "changed"
k "apply records ownership" get configmap ssa -n demo -o yaml --show-managed-fields; ok
has "manager: kubectl"; has "operation: Apply"; has "f:owner: {}"
k "another manager takes the field" patch configmap ssa -n demo --type merge -p '{"data":{"owner":"patched"}}'; ok
sed -i 's/owner: changed/owner: mine-again/' "$TMP/ssa.yaml"
k "apply conflict" apply --server-side -f "$TMP/ssa.yaml"
failed_with 'Apply failed with 1 conflict: conflict with "kubectl-patch" using v1: .data.owner'
k "apply --force-conflicts" apply --server-side --force-conflicts -f "$TMP/ssa.yaml"; ok
k "forced value" get configmap ssa -n demo -o jsonpath='{.data.owner}'; ok; has "mine-again"
cat >"$TMP/ssa-less.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: ssa
  namespace: demo
data:
  extra: kept
YAML
k "apply drops an unlisted field" apply --server-side --force-conflicts -f "$TMP/ssa-less.yaml"; ok
k "dropped field is gone" get configmap ssa -n demo -o jsonpath='{.data}'; ok; has '"extra":"kept"'; hasnt '"owner"'
# kubectl moves fields of a client-side apply to its server-side manager with a JSON patch
# that tests metadata.resourceVersion.
sed 's/name: ssa/name: csa/; s/owner: mine-again/owner: client-side/' "$TMP/ssa.yaml" >"$TMP/csa.yaml"
k "client-side apply" apply -f "$TMP/csa.yaml"; ok
k "then server-side apply" apply --server-side -f "$TMP/csa.yaml"; ok
NAME="managed fields migrated without a warning"
[[ "$ERR" != *"rejected managed fields migration"* ]] && pass "$NAME" || fail "$NAME: $ERR"
k "the client-side manager is gone" get configmap csa -n demo -o yaml --show-managed-fields; ok
hasnt "kubectl-client-side-apply"; has "operation: Apply"
k "create records an update manager" get configmap settings -n demo -o yaml --show-managed-fields; ok
has "manager: kubectl-create"; has "operation: Update"

# --- label, annotate, patch, scale ---------------------------------------------------------------
k "label" label configmap settings -n demo tier=gold; ok; has "labeled"
k "label selector" get configmaps -n demo -l tier=gold -o name; ok; has "configmap/settings"; hasnt "app-config"
k "label selector notin" get configmaps -n demo -l 'tier notin (gold)' -o name; ok; hasnt "configmap/settings"
k "annotate" annotate configmap settings -n demo note=hello; ok
k "annotation" get configmap settings -n demo -o jsonpath='{.metadata.annotations.note}'; ok; has "hello"
k "merge patch" patch configmap settings -n demo --type merge -p '{"data":{"color":"red"}}'; ok; has "patched"
k "json patch" patch configmap settings -n demo --type json -p '[{"op":"add","path":"/data/shape","value":"round"}]'; ok
k "patched data" get configmap settings -n demo -o jsonpath='{.data.color},{.data.shape}'; ok; has "red,round"
k "strategic patch" patch deployment shop -n demo -p '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox"}]}}}}'; ok
k "strategic patch merged by name" get deploy shop -n demo -o jsonpath='{.spec.template.spec.containers[*].name}'; ok; has "sidecar"; has "app"
k "bad json patch" patch configmap settings -n demo --type json -p '[{"op":"bogus","path":"/x"}]'; failed_with "Error from server"
k "scale" scale deployment shop -n demo --replicas=3; ok
k "scaled" get deploy shop -n demo -o jsonpath='{.spec.replicas}'; ok; has "3"

# --- watch, wait ------------------------------------------------------------------------------
kubectl get configmaps -n demo -w --output-watch-events >"$TMP/watch.out" 2>&1 &
WATCH_PID=$!
deadline=$((SECONDS + 20))
until grep -q "settings" "$TMP/watch.out"; do ((SECONDS > deadline)) && break; sleep 0.1; done
kubectl create configmap watched -n demo --from-literal=a=b >/dev/null 2>&1
until grep -q "watched" "$TMP/watch.out"; do ((SECONDS > deadline)) && break; sleep 0.1; done
kill "$WATCH_PID" 2>/dev/null; wait "$WATCH_PID" 2>/dev/null
NAME="get -w"; has "ADDED" "$(<"$TMP/watch.out")"; has "watched" "$(<"$TMP/watch.out")"
k "wait --for=delete" delete configmap watched -n demo --wait=false; ok
k "wait for deletion" wait --for=delete configmap/watched -n demo --timeout=10s; ok

# --- auth ---------------------------------------------------------------------------------------
k "auth can-i" auth can-i create deployments -n demo; ok; has "yes"
k "auth can-i --list" auth can-i --list -n demo; ok; has "*.*"

# RBAC: the join token's user (node rights only) may not read deployments until a
# RoleBinding lets it.
TOKEN=$(cat "$TMP/data/server/token")
as_token() { curl -sk -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$PORT$1"; }
NAME="rbac denies"
has 'deployments.apps is forbidden: User \"kite:join-token\" cannot list resource \"deployments\" in API group \"apps\" in the namespace \"demo\"' "$(as_token /apis/apps/v1/namespaces/demo/deployments)"
k "rolebinding" create rolebinding token-view -n demo --clusterrole=view --user=kite:join-token; ok
deadline=$((SECONDS + 10))
until [[ "$(as_token /apis/apps/v1/namespaces/demo/deployments)" == *'"kind":"DeploymentList"'* ]]; do
  ((SECONDS > deadline)) && break
  sleep 0.1
done
NAME="rbac allows after the binding"; has '"kind":"DeploymentList"' "$(as_token /apis/apps/v1/namespaces/demo/deployments)"
NAME="the binding is namespaced"; has "forbidden" "$(as_token /apis/apps/v1/namespaces/default/deployments)"
NAME="view cannot write"
has "forbidden" "$(curl -sk -X DELETE -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$PORT/api/v1/namespaces/demo/configmaps/settings")"

# --- services: cluster IPs from --service-cidr, node ports from 30000-32767 ---------------------
k "kubernetes service" get service kubernetes -n default -o jsonpath='{.spec.clusterIP}'; ok; has "10.43.0.1"
k "create service" create service clusterip api -n demo --tcp=80:8080; ok
k "cluster ip" get service api -n demo -o jsonpath='{.spec.clusterIP}'; ok
API_IP="$OUT"
NAME="cluster ip in range"; [[ "$API_IP" == 10.43.* && "$API_IP" != 10.43.0.1 ]] && pass "$NAME" || fail "$NAME: $API_IP"
k "create nodeport service" create service nodeport edge -n demo --tcp=80:8080; ok
k "node port" get service edge -n demo -o jsonpath='{.spec.ports[0].nodePort}'; ok
NAME="node port in range"; [[ "$OUT" -ge 30000 && "$OUT" -le 32767 ]] && pass "$NAME" || fail "$NAME: $OUT"
EDGE_PORT="$OUT"
k "requested cluster ip taken" create service clusterip clash -n demo --tcp=80 --clusterip="$API_IP"
failed_with "provided IP is already allocated"
k "requested node port taken" create service nodeport clash2 -n demo --tcp=80 --node-port="$EDGE_PORT"
failed_with "provided port is already allocated"
k "service columns" get services -n demo; ok; has "NodePort"; has "$API_IP"
k "cluster ip immutable on update" patch service api -n demo -p '{"spec":{"clusterIP":"10.43.99.99"}}'
NAME="cluster ip kept or refused"
[[ "$(kubectl get service api -n demo -o jsonpath='{.spec.clusterIP}')" == "$API_IP" ]] && pass "$NAME" || fail "$NAME"

# --- controllers: deployments own replica sets own pods; the garbage collector cascades -----
k "deployment defaults" get deploy web -n demo -o jsonpath='{.spec.strategy.type} {.spec.revisionHistoryLimit} {.spec.template.spec.restartPolicy}'
ok; has "RollingUpdate 10 Always"
wait_for() {  # wait_for DESCRIPTION COMMAND...: until the command succeeds (10 s)
  local deadline=$((SECONDS + 10))
  until "${@:2}" >/dev/null 2>&1; do
    ((SECONDS > deadline)) && break
    sleep 0.2
  done
}
pods_of_web() { [[ $(kubectl get pods -n demo -l app=web -o name | wc -l) -eq "$1" ]]; }
wait_for "two pods" pods_of_web 2
k "replica set of the deployment" get rs -n demo -l app=web; ok; has "web-"
k "pods of the deployment" get pods -n demo -l app=web; ok; has "Pending"
NAME="the deployment made two pods"; pods_of_web 2 && pass "$NAME" || fail "$NAME"
k "no nodes: unschedulable, as the scheduler words it" get pods -n demo -l app=web -o jsonpath='{.items[0].status.conditions[0].message}'
has "no nodes available to schedule pods"
# Events: the scheduler's FailedScheduling shows under the pod's Events (written in the
# background, so wait for it), the controllers' in `kubectl get events`.
WEB_POD=$(kubectl get pods -n demo -l app=web -o jsonpath='{.items[0].metadata.name}')
pod_has_event() { kubectl describe pod "$WEB_POD" -n demo | grep -q FailedScheduling; }
wait_for "FailedScheduling event" pod_has_event
k "describe pod shows the FailedScheduling event" describe pod "$WEB_POD" -n demo; ok
has "Events:"; hasnt "Events:  <none>"; has "Warning  FailedScheduling"; has "default-scheduler"
has "no nodes available to schedule pods"
k "get events" get events -n demo; ok; has "FailedScheduling"; has "ScalingReplicaSet"; has "SuccessfulCreate"
has "Scaled up replica set web-"
k "events of one object" get events -n demo --field-selector "involvedObject.name=$WEB_POD" -o jsonpath='{.items[*].reason}'
ok; has "FailedScheduling"; hasnt "ScalingReplicaSet"
k "service account token volume added by admission" get pods -n demo -l app=web -o jsonpath='{.items[0].spec.volumes[0].name} {.items[0].spec.containers[0].volumeMounts[0].mountPath}'
has "kube-api-access-"; has "/var/run/secrets/kubernetes.io/serviceaccount"
k "delete --cascade=orphan" delete deployment web -n demo --cascade=orphan; ok
k "orphaned replica set stays" get rs -n demo -l app=web -o jsonpath='{.items[0].metadata.ownerReferences}'; ok; hasnt "Deployment"
k "delete the replica set" delete rs -n demo -l app=web; ok
wait_for "pods gone" pods_of_web 0
NAME="background deletion removed the pods"; pods_of_web 0 && pass "$NAME" || fail "$NAME"

# --- custom resources ------------------------------------------------------------------------
cat >"$TMP/crd.yaml" <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names: {plural: crontabs, singular: crontab, kind: CronTab, shortNames: [ct]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas, labelSelectorPath: .status.labelSelector}
    additionalPrinterColumns:
    - {name: Spec, type: string, jsonPath: .spec.cronSpec}
    - {name: Replicas, type: integer, jsonPath: .spec.replicas}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            description: When and what the CronTab runs.
            required: [cronSpec]
            properties:
              cronSpec: {type: string, pattern: '^(\d+|\*)(/\d+)?(\s+(\d+|\*)(/\d+)?){4}$'}
              image: {type: string}
              replicas: {type: integer, minimum: 1, maximum: 10, default: 1}
          status:
            type: object
            properties:
              ready: {type: boolean}
              replicas: {type: integer}
              labelSelector: {type: string}
YAML
k "create crd" apply -f "$TMP/crd.yaml"; ok; has "customresourcedefinition.apiextensions.k8s.io/crontabs.stable.example.com created"
k "crd established" wait --for condition=established --timeout=20s crd/crontabs.stable.example.com; ok
k "crd in api-resources" api-resources --api-group=stable.example.com; ok; has "crontabs"; has "ct"; has "CronTab"
# explain reads the CRD's schema from /openapi/v3/apis/stable.example.com/v1.
k "explain custom kind" explain crontab; ok; has "KIND:       CronTab"; has "<ObjectMeta>"; has "spec"
k "explain custom field" explain crontab.spec; ok; has "When and what the CronTab runs."; has "cronSpec"
has "<string>"; has "<integer>"; has "-required-"
# --output=plaintext-openapiv2 reads /openapi/v2 as protobuf (client-go's OpenAPISchema()).
k "explain from openapi v2" explain deployment.spec.replicas --output=plaintext-openapiv2; ok
has "KIND:     Deployment"; has "FIELD:    replicas <integer>"
k "explain custom field from openapi v2" explain crontab.spec --output=plaintext-openapiv2; ok
has "When and what the CronTab runs."; has "cronSpec"
cat >"$TMP/ct.yaml" <<'YAML'
apiVersion: stable.example.com/v1
kind: CronTab
metadata:
  name: nightly
  namespace: demo
spec:
  cronSpec: "0 3 * * *"
  image: backup:1
  unknownField: dropped
YAML
# kubectl finds fieldValidation on the kind's PATCH operation in /openapi/v3 and leaves
# validation to the server: the message is the server's.
k "strict validation of custom objects" apply -f "$TMP/ct.yaml"
failed_with 'CronTab in version "v1" cannot be handled as a CronTab: strict decoding error: unknown field "spec.unknownField"'
k "create custom object" apply --validate=false -f "$TMP/ct.yaml"; ok; has "crontab.stable.example.com/nightly created"
k "custom columns" get ct -n demo; ok; has "SPEC"; has "REPLICAS"; has "0 3 * * *"
k "schema default applied" get crontab nightly -n demo -o jsonpath='{.spec.replicas}'; ok; has "1"
k "unknown field pruned" get crontab nightly -n demo -o jsonpath='{.spec}'; ok; hasnt "unknownField"; has "backup:1"
cat >"$TMP/ct-bad.yaml" <<'YAML'
apiVersion: stable.example.com/v1
kind: CronTab
metadata:
  name: broken
  namespace: demo
spec:
  cronSpec: "every night"
  replicas: 50
YAML
k "schema validation" apply -f "$TMP/ct-bad.yaml"
failed_with 'spec.replicas: Invalid value: 50: spec.replicas in body should be less than or equal to 10'
k "pattern validation" apply -f "$TMP/ct-bad.yaml"; failed_with "spec.cronSpec in body should match"
k "patch custom object" patch crontab nightly -n demo --type merge -p '{"spec":{"replicas":3}}'; ok
k "patched" get ct nightly -n demo -o jsonpath='{.spec.replicas}'; ok; has "3"
k "strategic patch of a custom object" patch crontab nightly -n demo -p '{"spec":{"replicas":4}}'
failed_with "the body of the request was in an unknown format"
k "unchanged by the refused patch" get ct nightly -n demo -o jsonpath='{.spec.replicas}'; ok; has "3"
k "scale custom object" scale crontab nightly -n demo --replicas=5; ok; has "crontab.stable.example.com/nightly scaled"
k "scaled custom object" get ct nightly -n demo -o jsonpath='{.spec.replicas}'; ok; has "5"
k "custom scale subresource" get --raw /apis/stable.example.com/v1/namespaces/demo/crontabs/nightly/scale; ok
has '"kind":"Scale"'; has '"spec":{"replicas":5}'
k "delete crd" delete crd crontabs.stable.example.com; ok
k "crd gone" get crd crontabs.stable.example.com; failed_with "not found"
k "its resource is no longer served" get crontabs -n demo; failed_with "crontabs"
k "create crd again" apply -f "$TMP/crd.yaml"; ok
k "established again" wait --for condition=established --timeout=20s crd/crontabs.stable.example.com; ok
k "explain after the crd came back" explain crontab.spec.replicas; ok; has "<integer>"
k "custom objects went with their crd" get crontabs -n demo; ok; hasnt "nightly"

# --- service-account tokens ----------------------------------------------------------------------
# The serviceaccount controller gives every namespace a "default" account.
deadline=$((SECONDS + 10))
until kubectl get serviceaccount default -n demo >/dev/null 2>&1; do
  ((SECONDS > deadline)) && break
  sleep 0.1
done
k "default service account" get serviceaccount default -n demo; ok; has "default"
k "create token" create token default -n demo --duration=10m; ok
SA_TOKEN="$OUT"
NAME="token is a JWT"; [[ "$SA_TOKEN" =~ ^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$ ]] && pass "$NAME" || fail "$NAME: $SA_TOKEN"
as_sa() { curl -sk -H "Authorization: Bearer $SA_TOKEN" "https://127.0.0.1:$PORT$1"; }
NAME="service account is authenticated and authorized as itself"
has 'User \"system:serviceaccount:demo:default\" cannot list resource \"secrets\"' "$(as_sa /api/v1/namespaces/demo/secrets)"
NAME="a tampered token is rejected"
has '"code":401' "$(curl -sk -H "Authorization: Bearer ${SA_TOKEN}x" "https://127.0.0.1:$PORT/api/v1/namespaces/demo/secrets")"
NAME="service accounts read the issuer's keys"; has '"alg":"ES256"' "$(as_sa /openid/v1/jwks)"
NAME="openid configuration"; has '"issuer":"https://kubernetes.default.svc.cluster.local"' "$(as_sa /.well-known/openid-configuration)"
k "token too short" create token default -n demo --duration=1m; failed_with "may not specify a duration less than 10 minutes"
k "delete service account" delete serviceaccount default -n demo; ok
NAME="a token dies with its service account"
deadline=$((SECONDS + 10))
until [[ "$(as_sa /api/v1/namespaces/demo/secrets)" == *'"code":401'* ]]; do
  ((SECONDS > deadline)) && break
  sleep 0.1
done
has '"code":401' "$(as_sa /api/v1/namespaces/demo/secrets)"

# --- LimitRange and ResourceQuota ----------------------------------------------------------------
k "create namespace quota" create namespace quota; ok
cat >"$TMP/limits.yaml" <<'YAML'
apiVersion: v1
kind: LimitRange
metadata: {name: limits, namespace: quota}
spec:
  limits:
  - type: Container
    max: {cpu: "1"}
    default: {cpu: 300m, memory: 64Mi}
YAML
k "apply a LimitRange" apply -f "$TMP/limits.yaml"; ok; has "limitrange/limits created"
k "describe limitrange" describe limitrange limits -n quota; ok; has "Container"; has "300m"
k "create quota" create quota q -n quota --hard=pods=2,limits.cpu=1; ok; has "resourcequota/q created"
k "run a pod" run one -n quota --image=busybox; ok
k "the LimitRange's defaults" get pod one -n quota -o jsonpath='{.spec.containers[0].resources.limits.cpu}'; ok; has "300m"
k "run a pod over the LimitRange's max" run big -n quota --image=busybox --overrides='{"spec":{"containers":[{"name":"big","image":"busybox","resources":{"limits":{"cpu":"2"}}}]}}'
failed_with 'pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2'
k "run a second pod" run two -n quota --image=busybox; ok
k "run a third pod" run three -n quota --image=busybox
failed_with 'pods "three" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2'
quota_used() { [[ "$(kubectl get quota q -n quota -o jsonpath='{.status.used.pods}/{.status.hard.pods}' 2>/dev/null)" == "2/2" ]]; }
NAME="the quota controller writes status"
deadline=$((SECONDS + 20)); until quota_used || ((SECONDS > deadline)); do sleep 0.2; done
if quota_used; then pass "$NAME"; else fail "$NAME: $(kubectl get quota q -n quota -o yaml 2>&1)"; fi
k "describe quota" describe quota q -n quota; ok; has "Resource"; has "Used"; has "Hard"; has "limits.cpu  600m  1"; has "pods        2     2"
k "delete a pod" delete pod one -n quota --grace-period=0 --force; ok
quota_freed() { [[ "$(kubectl get quota q -n quota -o jsonpath='{.status.used.pods}' 2>/dev/null)" == "1" ]]; }
NAME="a deleted pod's usage is released"
deadline=$((SECONDS + 20)); until quota_freed || ((SECONDS > deadline)); do sleep 0.2; done
if quota_freed; then pass "$NAME"; else fail "$NAME: $(kubectl get quota q -n quota -o yaml 2>&1)"; fi
k "a pod fits again" run three -n quota --image=busybox; ok
k "delete namespace quota" delete namespace quota --wait=false; ok

# --- delete -------------------------------------------------------------------------------------
k "delete configmap" delete configmap settings -n demo; ok; has 'configmap "settings" deleted'
k "deleted" get configmap settings -n demo; failed_with "not found"
k "delete by label" delete configmaps -n demo -l app=shop; ok; has "app-config"
k "delete namespace" delete namespace demo; ok; has 'namespace "demo" deleted'
k "namespace gone" get namespace demo; failed_with "not found"

# --- shutdown: SIGTERM, exit 0 (under ASan this also fails on leaks and memory errors) ----
kill -TERM "$SERVER_PID"
STATUS=0
wait "$SERVER_PID" || STATUS=$?
SERVER_PID=""
if [[ $STATUS -eq 0 ]]; then pass "server exits 0 on SIGTERM"; else
  fail "server exit status $STATUS; its log ends with:"
  tail -40 "$TMP/server.log"
fi

echo "$PASSED passed, $FAILED failed"
[[ "$FAILED" -eq 0 ]]
