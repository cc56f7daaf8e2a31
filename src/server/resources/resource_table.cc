#include "src/server/resources/resource_table.h"

#include <algorithm>
#include <set>

namespace kite::resources {
namespace {

// The order kube-apiserver 1.32 lists its built-in groups at /apis (its aggregator's group
// priorities, ties broken by name). Groups Kite does not serve are listed too so that the
// order stays right if they are added.
constexpr std::string_view kBuiltinGroupOrder[] = {
    "",  // core, served at /api
    "apiregistration.k8s.io",
    "apps",
    "events.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "networking.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "node.k8s.io",
    "discovery.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "internal.apiserver.k8s.io",
    "resource.k8s.io",
    "storagemigration.k8s.io",
};

// Position of `group` in kBuiltinGroupOrder, or the list's size for other groups.
size_t BuiltinGroupRank(std::string_view group) {
  constexpr size_t n = std::size(kBuiltinGroupOrder);
  for (size_t i = 0; i < n; ++i) {
    if (kBuiltinGroupOrder[i] == group) return i;
  }
  return n;
}

struct KubeVersion {
  bool ok = false;
  int type = 0;  // 2 GA, 1 beta, 0 alpha
  long major = 0;
  long minor = 0;
};

// Parses "v<major>[(alpha|beta)<minor>]"; anything else is not a Kubernetes version.
KubeVersion ParseKubeVersion(std::string_view v) {
  KubeVersion out;
  auto read_number = [](std::string_view& s, long* value) {
    size_t i = 0;
    long n = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (n > 100000000) return false;  // absurdly long: not a version we rank
      n = n * 10 + (s[i] - '0');
      ++i;
    }
    if (i == 0) return false;
    s.remove_prefix(i);
    *value = n;
    return true;
  };
  if (v.empty() || v[0] != 'v') return out;
  v.remove_prefix(1);
  if (!read_number(v, &out.major)) return out;
  if (v.empty()) {
    out.type = 2;
    out.ok = true;
    return out;
  }
  if (v.starts_with("alpha")) {
    out.type = 0;
    v.remove_prefix(5);
  } else if (v.starts_with("beta")) {
    out.type = 1;
    v.remove_prefix(4);
  } else {
    return out;
  }
  if (!read_number(v, &out.minor) || !v.empty()) return out;
  out.ok = true;
  return out;
}

Status ValidateInfo(const ResourceInfo& info) {
  auto missing = [&](const char* field) {
    return InvalidArgumentError("resource " + info.GroupVersion() + "/" + info.resource + ": " +
                                field + " is empty");
  };
  if (info.version.empty()) return missing("version");
  if (info.resource.empty()) return missing("resource");
  if (info.singular.empty()) return missing("singular");
  if (info.kind.empty()) return missing("kind");
  if (info.list_kind.empty()) return missing("list_kind");
  if (info.verbs.empty()) return missing("verbs");
  std::set<std::string_view> names;
  for (const SubresourceInfo& sub : info.subresources) {
    if (sub.name.empty()) return missing("a subresource name");
    if (sub.kind.empty()) return missing(("kind of subresource " + sub.name).c_str());
    if (sub.verbs.empty()) return missing(("verbs of subresource " + sub.name).c_str());
    if (!names.insert(sub.name).second) {
      return InvalidArgumentError("resource " + info.GroupVersion() + "/" + info.resource +
                                  ": subresource " + sub.name + " is listed twice");
    }
  }
  return Status::Ok();
}

}  // namespace

int CompareVersionPriority(std::string_view a, std::string_view b) {
  if (a == b) return 0;
  KubeVersion va = ParseKubeVersion(a);
  KubeVersion vb = ParseKubeVersion(b);
  if (!va.ok && !vb.ok) return a < b ? -1 : 1;
  if (va.ok != vb.ok) return va.ok ? -1 : 1;
  if (va.type != vb.type) return va.type > vb.type ? -1 : 1;
  if (va.major != vb.major) return va.major > vb.major ? -1 : 1;
  if (va.minor != vb.minor) return va.minor > vb.minor ? -1 : 1;
  return 0;
}

Status ResourceTable::Add(ResourceInfo info) {
  KITE_RETURN_IF_ERROR(ValidateInfo(info));
  Key resource_key{info.group, info.version, info.resource};
  Key kind_key{info.group, info.version, info.kind};
  if (by_resource_.count(resource_key) != 0) {
    return AlreadyExistsError("resource " + info.resource + " in " + info.GroupVersion() +
                              " is already served");
  }
  if (by_kind_.count(kind_key) != 0) {
    return AlreadyExistsError("kind " + info.kind + " in " + info.GroupVersion() +
                              " is already served by another resource");
  }
  size_t index = resources_.size();
  resources_.push_back(std::move(info));
  by_resource_.emplace(std::move(resource_key), index);
  by_kind_.emplace(std::move(kind_key), index);
  return Status::Ok();
}

const ResourceInfo* ResourceTable::Find(std::string_view group, std::string_view version,
                                        std::string_view resource) const {
  auto it = by_resource_.find(KeyView(group, version, resource));
  return it == by_resource_.end() ? nullptr : &resources_[it->second];
}

const ResourceInfo* ResourceTable::FindByKind(std::string_view group, std::string_view version,
                                              std::string_view kind) const {
  auto it = by_kind_.find(KeyView(group, version, kind));
  return it == by_kind_.end() ? nullptr : &resources_[it->second];
}

std::vector<GroupInfo> ResourceTable::Groups() const {
  // group → its versions; std::map keeps the other groups sorted by name.
  std::map<std::string, std::vector<std::string>, std::less<>> versions;
  for (const ResourceInfo& info : resources_) {
    std::vector<std::string>& list = versions[info.group];
    if (std::find(list.begin(), list.end(), info.version) == list.end()) {
      list.push_back(info.version);
    }
  }
  std::vector<GroupInfo> groups;
  groups.reserve(versions.size());
  for (auto& [name, list] : versions) {
    std::sort(list.begin(), list.end(), [](const std::string& a, const std::string& b) {
      return CompareVersionPriority(a, b) < 0;
    });
    groups.push_back(GroupInfo{name, std::move(list)});
  }
  // Stable: groups outside the built-in order keep their alphabetical order.
  std::stable_sort(groups.begin(), groups.end(), [](const GroupInfo& a, const GroupInfo& b) {
    return BuiltinGroupRank(a.name) < BuiltinGroupRank(b.name);
  });
  return groups;
}

std::optional<GroupInfo> ResourceTable::FindGroup(std::string_view name) const {
  for (GroupInfo& group : Groups()) {
    if (group.name == name) return std::move(group);
  }
  return std::nullopt;
}

std::vector<const ResourceInfo*> ResourceTable::ResourcesOf(std::string_view group,
                                                            std::string_view version) const {
  std::vector<const ResourceInfo*> out;
  // by_resource_ is ordered by (group, version, resource): one contiguous, sorted run.
  for (auto it = by_resource_.lower_bound(KeyView(group, version, std::string_view()));
       it != by_resource_.end() && std::get<0>(it->first) == group &&
       std::get<1>(it->first) == version;
       ++it) {
    out.push_back(&resources_[it->second]);
  }
  return out;
}

}  // namespace kite::resources
