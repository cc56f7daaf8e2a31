#include "src/server/apiserver/served_resources.h"

#include <iostream>

#include "src/server/apiserver/object_codec.h"
#include "src/server/crd/crd_status.h"
#include "src/server/json/json_util.h"

namespace kite::apiserver {

const CustomResourceServing* ServedResources::FindCustom(std::string_view group, std::string_view version,
                                                         std::string_view resource) const {
  auto it = custom.find({std::string(group), std::string(version), std::string(resource)});
  return it == custom.end() ? nullptr : &it->second;
}

std::shared_ptr<const ServedResources> BuildServedResources(const std::vector<std::string>& crds,
                                                            std::vector<std::string>* skipped) {
  auto served = std::make_shared<ServedResources>();
  served->table = resources::BuiltinResources();
  for (const std::string& text : crds) {
    Result<rapidjson::Document> crd = json::ParseJsonObject(text);
    if (!crd.ok() || !crd::IsEstablished(*crd)) continue;
    const rapidjson::Value* md = json::Member(*crd, "metadata");
    std::string name(md ? json::StringMember(*md, "name") : std::string_view());
    Result<std::vector<crd::ServedVersion>> versions = crd::ServedVersionsOf(*crd);
    if (!versions.ok()) {
      if (skipped) skipped->push_back(name + ": " + versions.status().message());
      continue;
    }
    // All of a CRD's versions go in, or none: a half-served CRD would confuse clients.
    resources::ResourceTable candidate = served->table;
    Status added;
    for (crd::ServedVersion& v : *versions) {
      added = candidate.Add(v.info);
      if (!added.ok()) break;
    }
    if (!added.ok()) {
      if (skipped) skipped->push_back(name + ": " + added.message());
      continue;
    }
    served->table = std::move(candidate);
    for (crd::ServedVersion& v : *versions) {
      served->custom[{v.info.group, v.info.version, v.info.resource}] =
          CustomResourceServing{name, v.schema, std::move(v.printer_columns), v.scale,
                                v.open_api_v3_schema};
    }
  }
  return served;
}

Result<std::unique_ptr<CrdWatcher>> CrdWatcher::Start(store::KvStore* kv) {
  std::unique_ptr<CrdWatcher> watcher(new CrdWatcher(kv));
  Result<int64_t> revision = watcher->Reload();
  if (!revision.ok()) return revision.status();
  CrdWatcher* w = watcher.get();
  int64_t from = *revision;
  watcher->thread_ = std::thread([w, from] { w->Run(from); });
  return watcher;
}

CrdWatcher::~CrdWatcher() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<const ServedResources> CrdWatcher::Current() const {
  MutexLock lock(mu_);
  return current_;
}

bool CrdWatcher::WaitForRevision(int64_t revision, std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(mu_);
  while (revision_ < revision) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    changed_.WaitFor(mu_, deadline - now);
  }
  return true;
}

Result<int64_t> CrdWatcher::Reload() {
  Result<store::RangeResult> all =
      kv_->Range(store::RangeRequest::Prefix(CollectionPrefix("apiextensions.k8s.io", "customresourcedefinitions", "")));
  if (!all.ok()) return all.status();
  std::vector<std::string> crds;
  for (store::KeyValue& kv : all->kvs) crds.push_back(std::move(kv.value));
  std::vector<std::string> skipped;
  std::shared_ptr<const ServedResources> served = BuildServedResources(crds, &skipped);
  for (const std::string& why : skipped) std::cerr << "kite: not serving CRD " << why << "\n";
  MutexLock lock(mu_);
  current_ = std::move(served);
  revision_ = std::max(revision_, all->revision);
  changed_.NotifyAll();
  return all->revision;
}

void CrdWatcher::Run(int64_t from_revision) {
  std::string prefix = CollectionPrefix("apiextensions.k8s.io", "customresourcedefinitions", "");
  while (!stop_) {
    Result<std::unique_ptr<store::Watcher>> watch = kv_->Watch(prefix, from_revision);
    if (!watch.ok()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      if (Result<int64_t> r = Reload(); r.ok()) from_revision = *r;
      continue;
    }
    while (!stop_) {
      Result<std::vector<store::EventPtr>> events = (*watch)->Next(std::chrono::milliseconds(200));
      if (!events.ok()) break;
      if (events->empty()) continue;
      // CRDs are few and change rarely: rebuild the whole snapshot.
      if (Result<int64_t> r = Reload(); r.ok()) from_revision = std::max(*r, events->back()->revision());
    }
    if (Result<int64_t> r = Reload(); r.ok()) from_revision = *r;
  }
}

}  // namespace kite::apiserver
