#include "src/server/controllers/service_account_controller.h"

#include "src/server/client/well_known_resources.h"
#include "src/server/json/json_util.h"

namespace kite::controllers {

void ServiceAccountController::Register(client::InformerFactory& informers, WorkQueue& queue) {
  namespaces_ = &informers.For(client::kNamespaces);
  service_accounts_ = &informers.For(client::kServiceAccounts);
  client_.emplace(informers.ClientFor(client::kServiceAccounts));
  namespaces_->AddHandlers({
      .on_add = [&queue](const client::ObjectPtr& ns) { queue.Add(client::ObjectKey(*ns)); },
      .on_update = nullptr,
      .on_delete = nullptr,
  });
  service_accounts_->AddHandlers({
      .on_add = nullptr,
      .on_update = nullptr,
      .on_delete = [&queue](const client::ObjectPtr& sa) {
        auto [ns, name] = client::SplitObjectKey(client::ObjectKey(*sa));
        if (name == "default") queue.Add(ns);
      },
  });
}

Status ServiceAccountController::Reconcile(const std::string& key) {
  client::ObjectPtr ns = namespaces_->Get(key);
  if (!ns) return Status();
  if (const rapidjson::Value* status = json::Member(*ns, "status");
      status && json::StringMember(*status, "phase") == "Terminating") {
    return Status();
  }
  if (service_accounts_->Get(key, "default")) return Status();
  Result<rapidjson::Document> sa = json::ParseJson(
      R"({"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"default"}})");
  if (!sa.ok()) return sa.status();
  Result<rapidjson::Document> created = client_->Create(key, *sa);
  if (!created.ok() && created.status().code() != StatusCode::kAlreadyExists) {
    // A namespace being deleted refuses new objects; the next namespace event settles it.
    return created.status().code() == StatusCode::kNotFound ? Status() : created.status();
  }
  return Status();
}

}  // namespace kite::controllers
