#include "src/agent/volumes/local_path_reclaimer.h"

#include <filesystem>
#include <vector>

#include "src/server/client/well_known_resources.h"
#include "src/server/controllers/controller_ref.h"
#include "src/server/controllers/persistent_volume_util.h"
#include "src/server/json/json_util.h"

namespace kite::agent::volumes {

namespace fs = std::filesystem;
using rapidjson::Value;

namespace {

namespace ctl = controllers;

// `path` is a plain absolute path whose parent is `root` (no "..", no trailing slash tricks).
bool DirectlyUnder(const std::string& path, const std::string& root) {
  if (path.empty() || path.front() != '/' || root.empty()) return false;
  fs::path p(path);
  if (p.lexically_normal() != p) return false;
  fs::path r = fs::path(root).lexically_normal();
  if (r.has_filename() == false) r = r.parent_path();  // "/a/b/" → "/a/b"
  return p.parent_path() == r && p.filename().string().starts_with("pvc-");
}

}  // namespace

LocalPathReclaimer::LocalPathReclaimer(client::ApiTransport* transport, LocalPathReclaimerOptions options)
    : options_(std::move(options)),
      nodes_(transport, client::kNodes),
      volumes_(transport, client::kPersistentVolumes) {}

LocalPathReclaimer::~LocalPathReclaimer() { Stop(); }

void LocalPathReclaimer::Log(const std::string& line) const {
  if (options_.log) options_.log(line);
}

void LocalPathReclaimer::Start() {
  if (node_informer_) return;
  client::ListOptions list;
  list.field_selector = "metadata.name=" + options_.node_name;
  node_informer_ = std::make_unique<client::Informer>(nodes_, "", list);
  auto changed = [this] {
    MutexLock lock(mu_);
    dirty_ = true;
    cv_.NotifyAll();
  };
  node_informer_->AddHandlers({
      .on_add = [changed](const client::ObjectPtr&) { changed(); },
      .on_update = [changed](const client::ObjectPtr&, const client::ObjectPtr&) { changed(); },
      .on_delete = nullptr,
  });
  node_informer_->Start();
  thread_ = std::thread([this] { Run(); });
}

void LocalPathReclaimer::Stop() {
  if (!node_informer_) return;
  {
    MutexLock lock(mu_);
    stopping_ = true;
    cv_.NotifyAll();
  }
  if (thread_.joinable()) thread_.join();
  node_informer_->Stop();
}

void LocalPathReclaimer::Run() {
  while (true) {
    {
      MutexLock lock(mu_);
      while (!dirty_ && !stopping_) cv_.Wait(mu_);
      if (stopping_) return;
      dirty_ = false;
    }
    client::ObjectPtr node = node_informer_->Get(options_.node_name);
    if (!node) continue;
    if (Status s = Sync(*node); !s.ok()) {
      Log("local-path: " + s.message() + " (retrying)");
      MutexLock lock(mu_);
      if (!stopping_) cv_.WaitFor(mu_, options_.retry);
      dirty_ = true;
    }
  }
}

Status LocalPathReclaimer::Sync(const Value& node) {
  const Value* md = json::Member(node, "metadata");
  const Value* annotations = md ? json::Member(*md, "annotations") : nullptr;
  if (!annotations || !annotations->IsObject()) return Status();
  std::vector<std::pair<std::string, std::string>> requests;  // volume, path
  for (const auto& m : annotations->GetObject()) {
    std::string_view key(m.name.GetString(), m.name.GetStringLength());
    if (!key.starts_with(ctl::kLocalPathDeletePrefix) || !m.value.IsString()) continue;
    std::string_view value(m.value.GetString(), m.value.GetStringLength());
    if (value == ctl::kLocalPathRemoved || value == ctl::kLocalPathKept) continue;  // answered
    requests.emplace_back(key.substr(ctl::kLocalPathDeletePrefix.size()), value);
  }
  Status first;
  for (const auto& [volume, path] : requests) {
    Result<std::string> answer = Decide(volume, path);
    if (!answer.ok()) {
      if (first.ok()) first = answer.status();
      continue;
    }
    rapidjson::Document patch(rapidjson::kObjectType);
    auto& a = patch.GetAllocator();
    Value values(rapidjson::kObjectType);
    json::SetStringMember(values, ctl::LocalPathDeleteKey(volume), *answer, a);
    Value meta(rapidjson::kObjectType);
    json::SetMember(meta, "annotations", std::move(values), a);
    json::SetMember(patch, "metadata", std::move(meta), a);
    Result<rapidjson::Document> r =
        nodes_.Patch("", options_.node_name, client::PatchType::kMerge, json::ToJson(patch));
    if (!r.ok() && first.ok()) first = r.status();
    if (r.ok()) Log("local-path: " + volume + ": " + path + " " + *answer);
  }
  return first;
}

Result<std::string> LocalPathReclaimer::Decide(const std::string& volume_name, const std::string& path) {
  Result<rapidjson::Document> pv = volumes_.Get("", volume_name);
  if (!pv.ok()) {
    if (pv.status().code() == StatusCode::kNotFound) return std::string(ctl::kLocalPathKept);
    return pv.status();
  }
  const Value* spec = json::Member(*pv, "spec");
  const Value* host = spec ? json::Member(*spec, "hostPath") : nullptr;
  bool ours = ctl::AnnotationOf(*pv, ctl::kAnnProvisionedBy) == ctl::kLocalPathProvisioner &&
              ctl::LocalPathNodeOf(*pv) == options_.node_name && ctl::PhaseOf(*pv) == "Released" &&
              spec && json::StringMember(*spec, "persistentVolumeReclaimPolicy") == "Delete" && host &&
              json::StringMember(*host, "path") == path && DirectlyUnder(path, options_.root);
  if (!ours) return std::string(ctl::kLocalPathKept);
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return IoError("remove " + path + ": " + ec.message());
  return std::string(ctl::kLocalPathRemoved);
}

}  // namespace kite::agent::volumes
