#include "src/server/auth/rbac_authorizer.h"

#include <algorithm>
#include <cstdio>

namespace kite::auth {
namespace {

constexpr int64_t kListPage = 500;
constexpr std::chrono::milliseconds kMinBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{5000};

// Kubernetes' aggregate error text: one message alone, several as "[a, b]" (duplicates
// dropped).
std::string JoinErrors(std::vector<std::string> errors) {
  std::vector<std::string> unique;
  for (std::string& e : errors) {
    if (std::find(unique.begin(), unique.end(), e) == unique.end()) unique.push_back(std::move(e));
  }
  if (unique.size() == 1) return unique[0];
  std::string out = "[";
  for (size_t i = 0; i < unique.size(); ++i) {
    if (i > 0) out += ", ";
    out += unique[i];
  }
  return out + "]";
}

void Report(const std::string& what, const Status& status) {
  std::fprintf(stderr, "kite: rbac: %s: %s\n", what.c_str(), status.ToString().c_str());
}

}  // namespace

RbacAuthorizer::RbacAuthorizer(store::KvStore* kv)
    : kv_(kv), index_(std::make_shared<const RbacIndex>()) {}

Result<std::unique_ptr<RbacAuthorizer>> RbacAuthorizer::Start(store::KvStore* kv) {
  std::unique_ptr<RbacAuthorizer> authorizer(new RbacAuthorizer(kv));
  KITE_RETURN_IF_ERROR(authorizer->Relist());
  RbacAuthorizer* self = authorizer.get();
  authorizer->thread_ = std::thread([self] { self->Run(); });
  return authorizer;
}

RbacAuthorizer::~RbacAuthorizer() {
  {
    MutexLock lock(wake_mu_);
    stopping_ = true;
  }
  wake_cv_.NotifyAll();
  if (thread_.joinable()) thread_.join();
  watcher_.reset();  // unregisters the ready callback before the members it uses go
}

Decision RbacAuthorizer::Authorize(const Attributes& attributes) {
  for (const std::string& group : attributes.groups) {
    if (group == kSystemMastersGroup) {
      return {true, "allowed: user is in group \"system:masters\""};
    }
  }
  std::shared_ptr<const RbacIndex> index = Snapshot();
  Decision decision;
  std::vector<std::string> errors;
  index->VisitRulesFor(
      attributes.user, attributes.groups, attributes.namespace_name,
      [&](const RbacIndex::RuleSource& source, const PolicyRule& rule) {
        if (!RuleAllows(attributes, rule)) return true;
        decision.allowed = true;
        decision.reason = "RBAC: allowed by " + source.Describe();
        return false;
      },
      &errors);
  if (!decision.allowed && !errors.empty()) {
    decision.reason = "RBAC: " + JoinErrors(std::move(errors));
  }
  return decision;
}

RulesReview RbacAuthorizer::RulesFor(std::string_view user, const std::vector<std::string>& groups,
                                     std::string_view namespace_name) {
  std::shared_ptr<const RbacIndex> index = Snapshot();
  RulesReview review;
  std::vector<std::string> errors;
  index->VisitRulesFor(
      user, groups, namespace_name,
      [&](const RbacIndex::RuleSource&, const PolicyRule& rule) {
        if (!rule.resources.empty()) {
          PolicyRule r = rule;
          r.non_resource_urls.clear();
          review.resource_rules.push_back(std::move(r));
        }
        if (!rule.non_resource_urls.empty()) {
          PolicyRule r;
          r.verbs = rule.verbs;
          r.non_resource_urls = rule.non_resource_urls;
          review.non_resource_rules.push_back(std::move(r));
        }
        return true;
      },
      &errors);
  if (!errors.empty()) review.evaluation_error = JoinErrors(std::move(errors));
  return review;
}

bool RbacAuthorizer::WaitForRevision(int64_t revision, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(mu_);
  while (revision_ < revision) {
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return false;
    published_.WaitFor(mu_, left);
  }
  return true;
}

int64_t RbacAuthorizer::revision() {
  MutexLock lock(mu_);
  return revision_;
}

std::shared_ptr<const RbacIndex> RbacAuthorizer::Snapshot() {
  MutexLock lock(mu_);
  return index_;
}

Status RbacAuthorizer::Relist() {
  watcher_.reset();
  working_.Clear();
  store::RangeRequest request = store::RangeRequest::Prefix(kRbacPrefix);
  request.limit = kListPage;
  int64_t revision = 0;
  while (true) {
    Result<store::RangeResult> page = kv_->Range(request);
    if (!page.ok()) return page.status();
    if (revision == 0) revision = page->revision;
    for (const store::KeyValue& kv : page->kvs) {
      Status s = working_.Put(kv.key, kv.value);
      if (!s.ok()) Report("ignoring " + kv.key, s);
    }
    if (page->continue_token.empty()) break;
    request.continue_token = page->continue_token;
  }
  working_.Finish();

  Result<std::unique_ptr<store::Watcher>> watcher = kv_->Watch(kRbacPrefix, revision);
  if (!watcher.ok()) return watcher.status();
  (*watcher)->SetReadyCallback([this] { Wake(); });
  watcher_ = std::move(*watcher);
  Publish(revision);
  return Status::Ok();
}

void RbacAuthorizer::Publish(int64_t revision) {
  auto snapshot = std::make_shared<const RbacIndex>(working_);
  {
    MutexLock lock(mu_);
    index_ = std::move(snapshot);
    revision_ = std::max(revision_, revision);
  }
  published_.NotifyAll();
}

void RbacAuthorizer::Wake() {
  {
    MutexLock lock(wake_mu_);
    wake_ = true;
  }
  wake_cv_.NotifyAll();
}

bool RbacAuthorizer::WaitForWake(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(wake_mu_);
  while (!wake_ && !stopping_) {
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) break;
    wake_cv_.WaitFor(wake_mu_, left);
  }
  return !stopping_;
}

void RbacAuthorizer::Run() {
  std::chrono::milliseconds backoff = kMinBackoff;
  while (true) {
    if (watcher_ == nullptr) {
      Status s = Relist();
      if (!s.ok()) {
        Report(
            "listing RBAC objects failed, retrying in " + std::to_string(backoff.count()) + " ms",
            s);
        {
          MutexLock lock(wake_mu_);
          wake_ = false;  // only Stop may cut the back-off short
        }
        if (!WaitForWake(backoff)) return;
        backoff = std::min(backoff * 2, kMaxBackoff);
        continue;
      }
      backoff = kMinBackoff;
    }
    {
      // Cleared before Next(), so a signal that arrives after it is not lost.
      MutexLock lock(wake_mu_);
      if (stopping_) return;
      wake_ = false;
    }
    Result<std::vector<store::EventPtr>> batch = watcher_->Next(std::chrono::milliseconds(0));
    if (!batch.ok()) {
      if (batch.status().code() != StatusCode::kUnavailable) {
        Report("watch ended, listing again", batch.status());
      }
      watcher_.reset();
      continue;
    }
    if (batch->empty()) {
      // The ready callback wakes us; the long timeout is only a safety net.
      if (!WaitForWake(std::chrono::seconds(30))) return;
      continue;
    }
    for (const store::EventPtr& event : *batch) {
      if (event->type == store::Event::Type::kDelete) {
        working_.Remove(event->kv.key);
      } else {
        Status s = working_.Put(event->kv.key, event->kv.value);
        if (!s.ok()) Report("ignoring " + event->kv.key, s);
      }
    }
    working_.Finish();
    Publish(batch->back()->revision());
  }
}

}  // namespace kite::auth
