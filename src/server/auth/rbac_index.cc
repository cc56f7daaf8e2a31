#include "src/server/auth/rbac_index.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include "src/server/auth/authorizer.h"
#include "src/server/selection/label_selector.h"

namespace kite::auth {

struct RbacIndex::Role {
  std::shared_ptr<const std::vector<PolicyRule>> rules;
  // ClusterRoles only.
  rapidjson::Document labels;  // metadata.labels, or null
  bool aggregated = false;
  std::vector<selection::LabelSelector> selectors;
};

struct RbacIndex::Binding {
  struct Subject {
    std::string kind, name, namespace_name;
  };
  bool cluster = false;  // ClusterRoleBinding
  std::string namespace_name, name;
  std::string role_kind, role_name;
  std::vector<Subject> subjects;
};

namespace {

enum class Kind { kRole, kClusterRole, kRoleBinding, kClusterRoleBinding };

struct ParsedKey {
  Kind kind;
  std::string namespace_name;  // "" for cluster-scoped kinds
  std::string name;
};

// Splits "<prefix><resource>/[<namespace>/]<name>"; false when the key names no RBAC object.
bool ParseKey(std::string_view key, ParsedKey& out) {
  if (!key.starts_with(kRbacPrefix)) return false;
  key.remove_prefix(kRbacPrefix.size());
  size_t slash = key.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view resource = key.substr(0, slash);
  std::string_view rest = key.substr(slash + 1);
  bool namespaced;
  if (resource == "roles") {
    out.kind = Kind::kRole;
    namespaced = true;
  } else if (resource == "rolebindings") {
    out.kind = Kind::kRoleBinding;
    namespaced = true;
  } else if (resource == "clusterroles") {
    out.kind = Kind::kClusterRole;
    namespaced = false;
  } else if (resource == "clusterrolebindings") {
    out.kind = Kind::kClusterRoleBinding;
    namespaced = false;
  } else {
    return false;
  }
  size_t sep = rest.find('/');
  if (namespaced) {
    if (sep == std::string_view::npos || sep == 0) return false;
    out.namespace_name = std::string(rest.substr(0, sep));
    rest.remove_prefix(sep + 1);
  } else {
    out.namespace_name.clear();
  }
  if (rest.empty() || rest.find('/') != std::string_view::npos) return false;
  out.name = std::string(rest);
  return true;
}

std::string StringField(const rapidjson::Value& object, const char* field) {
  if (!object.IsObject()) return {};
  auto it = object.FindMember(field);
  if (it == object.MemberEnd() || !it->value.IsString()) return {};
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

const rapidjson::Value* Field(const rapidjson::Value& object, const char* field) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(field);
  if (it == object.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

Result<std::vector<PolicyRule>> ParseRules(const rapidjson::Value& object) {
  std::vector<PolicyRule> rules;
  const rapidjson::Value* list = Field(object, "rules");
  if (list == nullptr) return rules;
  if (!list->IsArray()) return InvalidArgumentError("rules must be a list");
  for (const auto& r : list->GetArray()) {
    Result<PolicyRule> rule = PolicyRuleFromJson(r);
    if (!rule.ok()) return rule.status();
    rules.push_back(std::move(*rule));
  }
  return rules;
}

Result<std::shared_ptr<RbacIndex::Role>> ParseRole(const rapidjson::Value& object, bool cluster) {
  auto role = std::make_shared<RbacIndex::Role>();
  Result<std::vector<PolicyRule>> rules = ParseRules(object);
  if (!rules.ok()) return rules.status();
  role->rules = std::make_shared<const std::vector<PolicyRule>>(std::move(*rules));
  if (!cluster) return role;

  if (const rapidjson::Value* metadata = Field(object, "metadata")) {
    if (const rapidjson::Value* labels = Field(*metadata, "labels")) {
      role->labels.CopyFrom(*labels, role->labels.GetAllocator());
    }
  }
  if (const rapidjson::Value* aggregation = Field(object, "aggregationRule")) {
    role->aggregated = true;
    if (const rapidjson::Value* selectors = Field(*aggregation, "clusterRoleSelectors")) {
      if (!selectors->IsArray()) {
        return InvalidArgumentError("aggregationRule.clusterRoleSelectors must be a list");
      }
      for (const auto& s : selectors->GetArray()) {
        Result<selection::LabelSelector> selector = selection::LabelSelector::FromJson(s);
        if (!selector.ok()) {
          return InvalidArgumentError("aggregationRule.clusterRoleSelectors: " +
                                      selector.status().message());
        }
        role->selectors.push_back(std::move(*selector));
      }
    }
  }
  return role;
}

Result<std::shared_ptr<RbacIndex::Binding>> ParseBinding(const rapidjson::Value& object,
                                                         const ParsedKey& key) {
  auto binding = std::make_shared<RbacIndex::Binding>();
  binding->cluster = key.kind == Kind::kClusterRoleBinding;
  binding->namespace_name = key.namespace_name;
  binding->name = key.name;
  const rapidjson::Value* ref = Field(object, "roleRef");
  if (ref == nullptr || !ref->IsObject()) return InvalidArgumentError("roleRef is required");
  binding->role_kind = StringField(*ref, "kind");
  binding->role_name = StringField(*ref, "name");
  if (const rapidjson::Value* subjects = Field(object, "subjects")) {
    if (!subjects->IsArray()) return InvalidArgumentError("subjects must be a list");
    for (const auto& s : subjects->GetArray()) {
      if (!s.IsObject()) return InvalidArgumentError("subjects[] must be objects");
      binding->subjects.push_back(
          {StringField(s, "kind"), StringField(s, "name"), StringField(s, "namespace")});
    }
  }
  return binding;
}


bool Has(const std::vector<std::string>& set, std::string_view value) {
  for (const std::string& s : set) {
    if (s == value) return true;
  }
  return false;
}

}  // namespace

std::string RbacIndex::RuleSource::Describe() const {
  const Binding& b = *binding_;
  const Binding::Subject& s = b.subjects[subject_];
  std::string subject;
  if (s.kind == "ServiceAccount") {
    subject =
        s.kind + " " +
        Quote(s.name + "/" + (s.namespace_name.empty() ? b.namespace_name : s.namespace_name));
  } else {
    subject = s.kind + " " + Quote(s.name);
  }
  std::string binding = b.cluster ? "ClusterRoleBinding " + Quote(b.name)
                                  : "RoleBinding " + Quote(b.name + "/" + b.namespace_name);
  return binding + " of " + b.role_kind + " " + Quote(b.role_name) + " to " + subject;
}

RbacIndex::RbacIndex() = default;
RbacIndex::~RbacIndex() = default;
RbacIndex::RbacIndex(const RbacIndex&) = default;
RbacIndex& RbacIndex::operator=(const RbacIndex&) = default;

Status RbacIndex::Put(std::string_view key, std::string_view value) {
  ParsedKey k;
  if (!ParseKey(key, k)) return Status::Ok();
  Remove(key);  // a broken new version must not leave the old one granting

  rapidjson::Document doc;
  doc.Parse(value.data(), value.size());
  if (doc.HasParseError()) {
    return InvalidArgumentError(std::string("invalid JSON: ") +
                                rapidjson::GetParseError_En(doc.GetParseError()));
  }
  if (!doc.IsObject()) return InvalidArgumentError("not a JSON object");

  switch (k.kind) {
    case Kind::kRole:
    case Kind::kClusterRole: {
      bool cluster = k.kind == Kind::kClusterRole;
      Result<std::shared_ptr<Role>> role = ParseRole(doc, cluster);
      if (!role.ok()) return role.status();
      if (cluster) {
        cluster_roles_[k.name] = std::move(*role);
        cluster_roles_changed_ = true;
      } else {
        roles_[k.namespace_name + "/" + k.name] = std::move(*role);
      }
      break;
    }
    case Kind::kRoleBinding:
    case Kind::kClusterRoleBinding: {
      Result<std::shared_ptr<Binding>> binding = ParseBinding(doc, k);
      if (!binding.ok()) return binding.status();
      if (k.kind == Kind::kClusterRoleBinding) {
        cluster_role_bindings_[k.name] = std::move(*binding);
      } else {
        role_bindings_[k.namespace_name][k.name] = std::move(*binding);
      }
      break;
    }
  }
  return Status::Ok();
}

void RbacIndex::Remove(std::string_view key) {
  ParsedKey k;
  if (!ParseKey(key, k)) return;
  switch (k.kind) {
    case Kind::kRole:
      roles_.erase(k.namespace_name + "/" + k.name);
      break;
    case Kind::kClusterRole:
      if (cluster_roles_.erase(k.name) > 0) cluster_roles_changed_ = true;
      break;
    case Kind::kRoleBinding: {
      auto ns = role_bindings_.find(k.namespace_name);
      if (ns == role_bindings_.end()) break;
      ns->second.erase(k.name);
      if (ns->second.empty()) role_bindings_.erase(ns);
      break;
    }
    case Kind::kClusterRoleBinding:
      cluster_role_bindings_.erase(k.name);
      break;
  }
}

void RbacIndex::Clear() {
  roles_.clear();
  cluster_roles_.clear();
  role_bindings_.clear();
  cluster_role_bindings_.clear();
  cluster_role_rules_.clear();
  cluster_roles_changed_ = false;
}

void RbacIndex::Finish() {
  if (!cluster_roles_changed_) return;
  cluster_roles_changed_ = false;
  cluster_role_rules_.clear();
  std::map<std::string, bool> visiting;
  for (const auto& [name, role] : cluster_roles_) (void)AggregatedRules(name, visiting);
}

const RbacIndex::RulesPtr& RbacIndex::AggregatedRules(const std::string& name,
                                                      std::map<std::string, bool>& visiting) {
  auto done = cluster_role_rules_.find(name);
  if (done != cluster_role_rules_.end()) return done->second;
  const Role& role = *cluster_roles_.at(name);
  if (!role.aggregated) return cluster_role_rules_[name] = role.rules;

  visiting[name] = true;
  std::vector<PolicyRule> rules;
  for (const selection::LabelSelector& selector : role.selectors) {
    for (const auto& [other_name, other] : cluster_roles_) {
      // A role does not aggregate itself; a cycle is cut where it closes.
      if (other_name == name || visiting[other_name]) continue;
      const rapidjson::Value* labels = other->labels.IsObject() ? &other->labels : nullptr;
      if (!selector.Matches(labels)) continue;
      for (const PolicyRule& rule : *AggregatedRules(other_name, visiting)) {
        bool seen = false;
        for (const PolicyRule& have : rules) seen = seen || have == rule;
        if (!seen) rules.push_back(rule);
      }
    }
  }
  visiting[name] = false;
  return cluster_role_rules_[name] =
             std::make_shared<const std::vector<PolicyRule>>(std::move(rules));
}

const std::vector<PolicyRule>* RbacIndex::RoleRefRules(const Binding& binding,
                                                       std::string& error) const {
  if (binding.role_kind == "Role") {
    auto it = roles_.find(binding.namespace_name + "/" + binding.role_name);
    if (binding.namespace_name.empty() || it == roles_.end()) {
      error = "role.rbac.authorization.k8s.io " + Quote(binding.role_name) + " not found";
      return nullptr;
    }
    return it->second->rules.get();
  }
  if (binding.role_kind == "ClusterRole") {
    auto it = cluster_role_rules_.find(binding.role_name);
    if (it == cluster_role_rules_.end()) {
      error = "clusterrole.rbac.authorization.k8s.io " + Quote(binding.role_name) + " not found";
      return nullptr;
    }
    return it->second.get();
  }
  error = "unsupported role reference kind: " + Quote(binding.role_kind);
  return nullptr;
}

bool RbacIndex::AppliesTo(const Binding& binding, std::string_view user,
                          const std::vector<std::string>& groups, size_t& subject) const {
  for (size_t i = 0; i < binding.subjects.size(); ++i) {
    const Binding::Subject& s = binding.subjects[i];
    bool applies = false;
    if (s.kind == "User") {
      applies = user == s.name;
    } else if (s.kind == "Group") {
      applies = Has(groups, s.name);
    } else if (s.kind == "ServiceAccount") {
      // An unqualified subject means the binding's own namespace.
      const std::string& ns = s.namespace_name.empty() ? binding.namespace_name : s.namespace_name;
      applies = !ns.empty() && user == ServiceAccountUsername(ns, s.name);
    }
    if (applies) {
      subject = i;
      return true;
    }
  }
  return false;
}

void RbacIndex::VisitRulesFor(std::string_view user, const std::vector<std::string>& groups,
                              std::string_view namespace_name, const RuleVisitor& visit,
                              std::vector<std::string>* errors) const {
  // Returns false when the visitor asked to stop.
  auto visit_binding = [&](const Binding& binding) {
    size_t subject = 0;
    if (!AppliesTo(binding, user, groups, subject)) return true;
    std::string error;
    const std::vector<PolicyRule>* rules = RoleRefRules(binding, error);
    if (rules == nullptr) {
      if (errors != nullptr) errors->push_back(std::move(error));
      return true;
    }
    RuleSource source(binding, subject);
    for (const PolicyRule& rule : *rules) {
      if (!visit(source, rule)) return false;
    }
    return true;
  };

  for (const auto& [name, binding] : cluster_role_bindings_) {
    if (!visit_binding(*binding)) return;
  }
  if (namespace_name.empty()) return;
  auto ns = role_bindings_.find(std::string(namespace_name));
  if (ns == role_bindings_.end()) return;
  for (const auto& [name, binding] : ns->second) {
    if (!visit_binding(*binding)) return;
  }
}

size_t RbacIndex::size() const {
  size_t n = roles_.size() + cluster_roles_.size() + cluster_role_bindings_.size();
  for (const auto& [ns, bindings] : role_bindings_) n += bindings.size();
  return n;
}

}  // namespace kite::auth
