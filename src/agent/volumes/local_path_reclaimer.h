// LocalPathReclaimer: the node agent's half of the local-path delete handshake (the other
// half is the PV binder's, src/server/controllers/persistent_volume_binder.h). Nodes may
// read PersistentVolumes but not write them, so requests and answers travel as annotations
// of the agent's own Node:
//   kite.dev/local-path-delete.<pv> = <directory>   (the binder asks)
//   kite.dev/local-path-delete.<pv> = removed | kept (this class answers)
// after which the binder deletes the PV and the annotation.
//
// A directory is removed only when the PV, read fresh from the API, is a local-path volume
// (pv.kubernetes.io/provisioned-by rancher.io/local-path) of this node (its hostname node
// affinity), Released with reclaim policy Delete, whose spec.hostPath.path is the requested
// directory, and that directory lies directly under the node's local-path root. Anything
// else is answered "kept" and left on disk (as is the directory of a PV already gone).
//
// Operation: Start watches this node's Node object (fieldSelector metadata.name) and runs
// one thread that answers every open request after each change; a failed pass (API or
// file-system error) is retried every `retry`. Stop joins the thread and the watch.
// Thread-safety: Start and Stop from one thread; Sync from one thread at a time.
#pragma once

#include <rapidjson/document.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "src/base/mutex.h"
#include "src/base/status.h"
#include "src/server/client/informer.h"
#include "src/server/client/resource_client.h"

namespace kite::agent::volumes {

struct LocalPathReclaimerOptions {
  std::string node_name;
  std::string root;  // <data-dir>/storage: only its direct children are removed
  std::chrono::milliseconds retry{2000};
  // One line per message; none when empty.
  std::function<void(const std::string&)> log;
};

class LocalPathReclaimer {
 public:
  // `transport` must outlive the reclaimer.
  LocalPathReclaimer(client::ApiTransport* transport, LocalPathReclaimerOptions options);
  ~LocalPathReclaimer();
  LocalPathReclaimer(const LocalPathReclaimer&) = delete;
  LocalPathReclaimer& operator=(const LocalPathReclaimer&) = delete;

  void Start();
  void Stop();

  // Answers every open request among `node`'s annotations (removing directories where the
  // rules above allow). The first error is returned once every request was tried.
  Status Sync(const rapidjson::Value& node);

 private:
  // "removed" or "kept" for the request about PV `volume_name` naming `path`.
  Result<std::string> Decide(const std::string& volume_name, const std::string& path);
  void Run();
  void Log(const std::string& line) const;

  const LocalPathReclaimerOptions options_;
  const client::ResourceClient nodes_;
  const client::ResourceClient volumes_;
  std::unique_ptr<client::Informer> node_informer_;
  std::thread thread_;

  Mutex mu_;
  CondVar cv_;
  bool dirty_ GUARDED_BY(mu_) = false;
  bool stopping_ GUARDED_BY(mu_) = false;
};

}  // namespace kite::agent::volumes
