// A container's log as an HTTP response body: what the agent answers to
// GET /containerLogs/<namespace>/<pod>/<container> (and the API server relays for
// `kubectl logs`), read from the CRI log file the runtime writes (cri_log_format.h).
//
// Operation: OpenContainerLog finds the container among the runtime's containers by the
// kubelet's labels (io.kubernetes.pod.uid and io.kubernetes.container.name): the newest
// attempt, or with `previous` the one before it. The stream then reads that container's
// Container::log_path from the start, or from the start of its last `tail_lines` lines (as
// the kubelet, counting the file's lines: a long line the runtime split counts once per
// part), drops entries older than since_time / now - since_seconds, prints each entry's
// content ("P" parts join the next entry; a full entry ends with '\n'), with `timestamps`
// prefixed by the entry's time as written in the file and a space (once per joined line),
// and stops after `limit_bytes` bytes (cutting a line if need be). Lines that do not parse
// are skipped. A log file that does not exist yet reads as empty.
// With `follow` it keeps streaming appended lines (a helper thread polls the file every
// `poll_interval` and the container's state every few polls; a file replaced under the same
// path, as log rotation does, is reopened from its start), until the container is no longer
// running and the file has been read to its end; a partial last line (no '\n' yet) waits
// for its end. Without `follow` the stream ends at the end of the file.
//
// Limits: each Poll reads at most 64 KiB of the file (and asks to be polled again while
// there is more); the stream has no backpressure of its own, so a client slower than the
// disk is bounded by the HTTP server's stream backlog limit.
// Thread-safety: OpenContainerLog may be called from any thread. The stream follows
// http::ResponseStream's contract; `runtime` must outlive it.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "src/agent/logs/log_options.h"
#include "src/base/status.h"
#include "src/runtime/runtime.h"
#include "src/server/http/http_types.h"

namespace kite::agent::logs {

// Errors: kNotFound when the pod has no container of that name (`container "c" in pod "p"
// is not available`) or the runtime keeps no log for it; kInvalidArgument with the
// kubelet's message `previous terminated container "c" in pod "p" not found` when
// `previous` finds no earlier attempt; kIoError when the log file cannot be opened; the
// runtime's error when it cannot list containers. Pod names in messages come from the
// io.kubernetes.pod.name label (the UID when a container has none).
Result<std::unique_ptr<http::ResponseStream>> OpenContainerLog(
    runtime::Runtime& runtime, const std::string& pod_uid, const std::string& container_name,
    const LogOptions& options,
    std::chrono::milliseconds poll_interval = std::chrono::milliseconds(100));

}  // namespace kite::agent::logs
