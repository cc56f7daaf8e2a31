// The pod subresources that a node's agent answers, proxied by the API server as
// Kubernetes serves them (pkg/registry/core/pod/rest: log.go, subresources.go;
// pod/strategy.go: LogLocation, streamLocation):
//
//   GET pods/<name>/log           ?container follow previous sinceSeconds sinceTime
//                                 timestamps tailLines limitBytes
//       → GET /containerLogs/<ns>/<pod>/<container>?<the same> on the agent, the body
//         streamed back as text/plain.
//   GET|POST pods/<name>/exec     ?container command(repeated) stdin stdout stderr tty
//   GET|POST pods/<name>/attach   ?container stdin stdout stderr tty
//   GET|POST pods/<name>/portforward ?ports
//       → the client's upgrade request to /exec/<ns>/<pod>/<container>,
//         /attach/<ns>/<pod>/<container> or /portForward/<ns>/<pod>; on the agent's 101 the
//         API server answers 101 with the agent's headers and pipes bytes both ways until
//         either side closes; any other answer is relayed as it came.
//
// Checks before the agent is asked, with Kubernetes' messages: the pod exists (404); log
// options decode (400) and validate (422 Invalid PodLogOptions); the container is named
// when the pod has several, and is one of the pod's (400 `a container name must be
// specified for pod web, choose one of: [a b]`, `container x is not valid for pod web`);
// for logs, the container's status as the kubelet checks it (400 `container "x" in pod
// "web" is waiting to start: ContainerCreating`, `... is not available`, `previous
// terminated container "x" in pod "web" not found`, ...); exec, attach and port-forward need
// an upgrade request (400 `Upgrade request required`) and a pod with a node (400 `pod web
// does not have a host assigned`). A log of a pod not yet scheduled is empty (200), as in
// Kubernetes. The node's agent is found by NodeEndpointOf.
//
// Agent failures: unreachable → 500 InternalError (`Get "https://...": ...` for logs,
// `error dialing backend: ...` for upgrades); a non-2xx log answer becomes the error
// Kubernetes makes of it (400 → BadRequest with the agent's text, 500 → InternalError,
// 404 → NotFound, others as a generic status). Authorization happened before (RBAC verb
// "create" on exec, attach and portforward whatever the method; "get" on log).
//
// Thread-safety: ServeNodeProxy may be called concurrently. Upgraded sessions run on the
// HTTPS server's session threads.
#pragma once

#include <string_view>

#include "src/server/apiserver/kubelet_client.h"
#include "src/server/apiserver/rest_handler.h"
#include "src/server/http/http_types.h"
#include "src/store/kv_store.h"

namespace kite::apiserver {

// True for log, exec, attach and portforward of core pods: what ServeNodeProxy serves.
bool IsNodeProxySubresource(std::string_view group, std::string_view resource,
                            std::string_view subresource);

// Serves one of them. `kubelet` null (node proxying disabled) answers 503.
http::HandlerResult ServeNodeProxy(const RestRequest& request, store::KvStore* kv,
                                   KubeletClient* kubelet);

}  // namespace kite::apiserver
