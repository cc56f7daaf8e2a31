#include "src/server/controllers/indexed_job.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>
#include <map>
#include <set>

#include "src/server/controllers/pod_control.h"
#include "src/server/controllers/pod_failure_policy.h"
#include "src/server/json/json_util.h"

namespace kite::controllers {

using rapidjson::Value;

namespace {

// A non-negative decimal number (Go's strconv.Atoi also takes a sign; a negative index is
// unknown either way).
std::optional<int64_t> ParseIndex(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

int64_t CompletionIndexOf(const Value& pod) {
  const Value* md = json::Member(pod, "metadata");
  const Value* annotations = md ? json::Member(*md, "annotations") : nullptr;
  const Value* v = annotations ? json::Member(*annotations, kJobCompletionIndexAnnotation) : nullptr;
  if (!v || !v->IsString()) return -1;
  std::optional<int64_t> index = ParseIndex(std::string_view(v->GetString(), v->GetStringLength()));
  return index && *index >= 0 ? *index : -1;
}

IndexIntervals IndexIntervals::Parse(std::string_view text, int64_t completions) {
  IndexIntervals out;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view part = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    size_t dash = part.find('-');
    std::optional<int64_t> first = ParseIndex(part.substr(0, dash));
    if (!first) continue;
    if (*first >= completions) break;
    std::optional<int64_t> last = first;
    if (dash != std::string_view::npos) {
      last = ParseIndex(part.substr(dash + 1));
      if (!last) continue;
      last = std::min(*last, completions - 1);
    }
    if (*last < *first) continue;
    if (!out.intervals_.empty() && out.intervals_.back().last + 1 >= *first) {
      out.intervals_.back().last = std::max(out.intervals_.back().last, *last);
    } else {
      out.intervals_.push_back({*first, *last});
    }
  }
  return out;
}

IndexIntervals IndexIntervals::With(std::vector<int64_t> indexes) const {
  IndexIntervals single;
  for (int64_t ix : indexes) single.intervals_.push_back({ix, ix});
  return Union(single);
}

IndexIntervals IndexIntervals::Union(const IndexIntervals& other) const {
  std::vector<Interval> all = intervals_;
  all.insert(all.end(), other.intervals_.begin(), other.intervals_.end());
  std::sort(all.begin(), all.end(), [](const Interval& x, const Interval& y) { return x.first < y.first; });
  IndexIntervals out;
  for (const Interval& iv : all) {
    if (!out.intervals_.empty() && iv.first <= out.intervals_.back().last + 1) {
      out.intervals_.back().last = std::max(out.intervals_.back().last, iv.last);
    } else {
      out.intervals_.push_back(iv);
    }
  }
  return out;
}

bool IndexIntervals::Has(int64_t index) const {
  auto it = std::lower_bound(intervals_.begin(), intervals_.end(), index,
                             [](const Interval& iv, int64_t ix) { return iv.last < ix; });
  return it != intervals_.end() && it->first <= index;
}

int64_t IndexIntervals::Total() const {
  int64_t total = 0;
  for (const Interval& iv : intervals_) total += iv.last - iv.first + 1;
  return total;
}

std::string IndexIntervals::ToString() const {
  std::string out;
  for (const Interval& iv : intervals_) {
    if (!out.empty()) out += ',';
    out += std::to_string(iv.first);
    if (iv.last > iv.first) {
      out += iv.last == iv.first + 1 ? ',' : '-';
      out += std::to_string(iv.last);
    }
  }
  return out;
}

std::vector<int64_t> FirstPendingIndexes(const std::vector<client::ObjectPtr>& busy, const IndexIntervals& done,
                                         int64_t count, int64_t completions) {
  std::vector<int64_t> result;
  if (count <= 0) return result;
  std::vector<int64_t> busy_indexes;
  for (const client::ObjectPtr& p : busy) {
    if (int64_t ix = CompletionIndexOf(*p); ix >= 0) busy_indexes.push_back(ix);
  }
  IndexIntervals taken = done.With(std::move(busy_indexes));
  int64_t candidate = 0;
  // Bounded by the number of intervals and `count`, not by `completions`.
  for (const IndexIntervals::Interval& iv : taken.intervals()) {
    for (; candidate < completions && static_cast<int64_t>(result.size()) < count && candidate < iv.first; ++candidate) {
      result.push_back(candidate);
    }
    candidate = std::max(candidate, iv.last + 1);
  }
  for (; candidate < completions && static_cast<int64_t>(result.size()) < count; ++candidate) result.push_back(candidate);
  return result;
}

std::vector<client::ObjectPtr> PodsWithDuplicateIndexes(const std::vector<client::ObjectPtr>& active,
                                                        int64_t completions, int64_t now_ms) {
  std::vector<client::ObjectPtr> remove;
  std::map<int64_t, std::vector<client::ObjectPtr>> by_index;
  for (const client::ObjectPtr& p : active) {
    int64_t ix = CompletionIndexOf(*p);
    if (ix < 0 || ix >= completions) {
      remove.push_back(p);
    } else {
      by_index[ix].push_back(p);
    }
  }
  for (auto& [ix, pods] : by_index) {
    if (pods.size() < 2) continue;
    std::vector<client::ObjectPtr> extra = PodsToDelete(pods, pods, pods.size() - 1, now_ms);
    remove.insert(remove.end(), extra.begin(), extra.end());
  }
  return remove;
}

std::optional<std::string> MatchSuccessPolicy(const Value* policy, int64_t completions,
                                              const IndexIntervals& succeeded) {
  const Value* rules = policy && policy->IsObject() ? json::Member(*policy, "rules") : nullptr;
  if (!rules || !rules->IsArray() || succeeded.Total() == 0) return std::nullopt;
  int index = 0;
  for (const Value& rule : rules->GetArray()) {
    int rule_index = index++;
    if (!rule.IsObject()) continue;
    const Value* count_field = json::Member(rule, "succeededCount");
    std::optional<int64_t> count;
    if (count_field && count_field->IsInt64()) count = count_field->GetInt64();
    const Value* indexes = json::Member(rule, "succeededIndexes");
    bool met = false;
    if (indexes && indexes->IsString()) {
      IndexIntervals required =
          IndexIntervals::Parse(std::string_view(indexes->GetString(), indexes->GetStringLength()), completions);
      if (required.Total() == 0) continue;
      // How many required indexes succeeded: the overlap of the two interval lists.
      int64_t contained = 0;
      const auto& r = required.intervals();
      const auto& s = succeeded.intervals();
      for (size_t i = 0, j = 0; i < r.size() && j < s.size();) {
        int64_t overlap = std::min(r[i].last, s[j].last) - std::max(r[i].first, s[j].first) + 1;
        if (overlap > 0) contained += overlap;
        if (s[j].last < r[i].last) {
          ++j;
        } else if (s[j].last > r[i].last) {
          ++i;
        } else {
          ++i;
          ++j;
        }
      }
      met = contained == required.Total() || (count && contained >= *count);
    } else if (count) {
      met = succeeded.Total() >= *count;
    }
    if (met) return "Matched rules at index " + std::to_string(rule_index);
  }
  return std::nullopt;
}

namespace {

int32_t CountAnnotation(const Value& pod, const char* key) {
  const Value* md = json::Member(pod, "metadata");
  const Value* annotations = md ? json::Member(*md, "annotations") : nullptr;
  const Value* v = annotations ? json::Member(*annotations, key) : nullptr;
  if (!v || !v->IsString()) return 0;
  std::optional<int64_t> n = ParseIndex(std::string_view(v->GetString(), v->GetStringLength()));
  if (!n || *n < 0 || *n > std::numeric_limits<int32_t>::max()) return 0;
  return static_cast<int32_t>(*n);
}

int32_t PlusOne(int32_t n) { return n == std::numeric_limits<int32_t>::max() ? n : n + 1; }

}  // namespace

IndexFailureCounts IndexFailureCountsOf(const Value& pod) {
  return {CountAnnotation(pod, kJobIndexFailureCountAnnotation),
          CountAnnotation(pod, kJobIndexIgnoredFailureCountAnnotation)};
}

IndexFailureCounts ReplacementIndexFailureCounts(const Value* policy, const Value* replaced) {
  if (!replaced) return {};
  IndexFailureCounts counts = IndexFailureCountsOf(*replaced);
  if (MatchPodFailurePolicy(policy, *replaced).count_failed) {
    counts.failed = PlusOne(counts.failed);
  } else {
    counts.ignored = PlusOne(counts.ignored);
  }
  return counts;
}

bool FailsIndex(const Value* policy, const Value& pod, int64_t backoff_limit_per_index) {
  PodFailurePolicyMatch match = MatchPodFailurePolicy(policy, pod);
  if (match.action == "FailIndex") return true;
  return match.count_failed && IndexFailureCountsOf(pod).failed >= backoff_limit_per_index;
}

namespace {

void AddEnvTo(Value& container, rapidjson::Document::AllocatorType& a) {
  if (!container.IsObject()) return;
  Value* env = json::MutableMember(container, "env");
  if (env && env->IsArray()) {
    for (const Value& e : env->GetArray()) {
      if (json::StringMember(e, "name") == kJobCompletionIndexEnv) return;
    }
  } else {
    json::SetMember(container, "env", Value(rapidjson::kArrayType), a);
    env = json::MutableMember(container, "env");
  }
  Value var(rapidjson::kObjectType);
  json::SetStringMember(var, "name", kJobCompletionIndexEnv, a);
  Value field_ref(rapidjson::kObjectType);
  json::SetStringMember(field_ref, "fieldPath",
                        std::string("metadata.labels['") + kJobCompletionIndexAnnotation + "']", a);
  Value value_from(rapidjson::kObjectType);
  json::SetMember(value_from, "fieldRef", std::move(field_ref), a);
  json::SetMember(var, "valueFrom", std::move(value_from), a);
  env->PushBack(std::move(var), a);
}

void SetStringEntry(Value& md, std::string_view map, std::string_view key, std::string_view value,
                    rapidjson::Document::AllocatorType& a) {
  Value* m = json::MutableMember(md, map);
  if (!m || !m->IsObject()) {
    json::SetMember(md, map, Value(rapidjson::kObjectType), a);
    m = json::MutableMember(md, map);
  }
  json::SetStringMember(*m, key, value, a);
}

}  // namespace

void AddCompletionIndexEnv(Value& pod, rapidjson::Document::AllocatorType& a) {
  Value* spec = json::MutableMember(pod, "spec");
  if (!spec || !spec->IsObject()) return;
  for (const char* field : {"initContainers", "containers"}) {
    Value* list = json::MutableMember(*spec, field);
    if (!list || !list->IsArray()) continue;
    for (Value& c : list->GetArray()) AddEnvTo(c, a);
  }
}

void SetIndexFailureCounts(Value& pod, IndexFailureCounts counts, rapidjson::Document::AllocatorType& a) {
  Value& md = json::EnsureObjectMember(pod, "metadata", a);
  SetStringEntry(md, "annotations", kJobIndexFailureCountAnnotation, std::to_string(counts.failed), a);
  if (counts.ignored > 0) {
    SetStringEntry(md, "annotations", kJobIndexIgnoredFailureCountAnnotation, std::to_string(counts.ignored), a);
  }
}

void SetCompletionIndex(Value& pod, std::string_view job_name, int64_t index, rapidjson::Document::AllocatorType& a) {
  std::string ix = std::to_string(index);
  Value& md = json::EnsureObjectMember(pod, "metadata", a);
  SetStringEntry(md, "annotations", kJobCompletionIndexAnnotation, ix, a);
  SetStringEntry(md, "labels", kJobCompletionIndexAnnotation, ix, a);
  // The API server appends five random characters; 58 leaves room for them in 63.
  constexpr size_t kMaxGeneratedNameLength = 58;
  std::string suffix = "-" + ix + "-";
  std::string prefix = std::string(job_name) + suffix;
  if (prefix.size() > kMaxGeneratedNameLength) {
    prefix = std::string(job_name.substr(0, kMaxGeneratedNameLength - suffix.size())) + suffix;
  }
  json::SetStringMember(md, "generateName", prefix, a);
  Value& spec = json::EnsureObjectMember(pod, "spec", a);
  json::SetStringMember(spec, "hostname", std::string(job_name) + "-" + ix, a);
}

}  // namespace kite::controllers
