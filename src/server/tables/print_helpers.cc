#include "src/server/tables/print_helpers.h"

#include <set>

#include "src/server/tables/json_fields.h"
#include "src/server/tables/timestamp.h"

namespace kite::tables::internal {

void RowWriter::Completed(std::string_view reason, std::string_view message) {
  rapidjson::Value cond(rapidjson::kObjectType);
  cond.AddMember("type", "Completed", alloc_);
  cond.AddMember("status", "True", alloc_);
  auto text = [&](std::string_view t) {
    return rapidjson::Value(t.empty() ? "" : t.data(), static_cast<rapidjson::SizeType>(t.size()),
                            alloc_);
  };
  cond.AddMember("reason", text(reason), alloc_);
  cond.AddMember("message", text(message), alloc_);
  conditions_.SetArray();
  conditions_.PushBack(cond, alloc_);
}

std::string CreationAge(const rapidjson::Value& obj, const PrintContext& ctx) {
  return AgeSince(Time(Dig(&obj, "metadata", "creationTimestamp")), ctx.now);
}

void AddContainerCells(const rapidjson::Value* containers, RowWriter& row) {
  std::string names, images;
  bool first = true;
  for (auto& c : Arr(containers).GetArray()) {
    if (!first) {
      names += ',';
      images += ',';
    }
    first = false;
    names += Str(Get(&c, "name"));
    images += Str(Get(&c, "image"));
  }
  row.String(names);
  row.String(images);
}

std::string JoinHostPort(std::string_view host, int64_t port) {
  std::string out;
  if (host.find(':') != std::string_view::npos) {
    out.append("[").append(host).append("]");
  } else {
    out.append(host);
  }
  return out + ":" + std::to_string(port);
}

std::string Join(const std::vector<std::string>& list, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < list.size(); ++i) {
    if (i > 0) out.append(sep);
    out += list[i];
  }
  return out;
}

std::string ListWithMore(const std::vector<std::string>& list, bool more, size_t count,
                         size_t max) {
  std::string out = Join(list, ",");
  if (more) return out + " + " + std::to_string(count - max) + " more...";
  return out.empty() ? "<unset>" : out;
}

std::string LoadBalancerAddresses(const rapidjson::Value* load_balancer_status) {
  std::set<std::string> addresses;
  for (auto& ingress : Arr(Get(load_balancer_status, "ingress")).GetArray()) {
    std::string_view ip = Str(Get(&ingress, "ip"));
    std::string_view hostname = Str(Get(&ingress, "hostname"));
    if (!ip.empty()) {
      addresses.emplace(ip);
    } else if (!hostname.empty()) {
      addresses.emplace(hostname);
    }
  }
  return Join(std::vector<std::string>(addresses.begin(), addresses.end()), ",");
}

std::string BoolPtrString(const rapidjson::Value* v) {
  if (v == nullptr || !v->IsBool()) return "<unset>";
  return v->GetBool() ? "True" : "False";
}

}  // namespace kite::tables::internal
