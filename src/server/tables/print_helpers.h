// Cell formatting shared by several kinds' printers (internal to kite_tables).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "src/server/tables/kind_printers.h"

namespace kite::tables::internal {

// The AGE cell from metadata.creationTimestamp.
std::string CreationAge(const rapidjson::Value& obj, const PrintContext& ctx);

// Appends two cells: the containers' names and their images, each comma-joined.
void AddContainerCells(const rapidjson::Value* containers, RowWriter& row);

// "ip:port", with brackets around IPv6 addresses ("[fd00::1]:80").
std::string JoinHostPort(std::string_view host, int64_t port);

// Comma-joins `list`; when more items existed than shown, appends " + N more...";
// "<unset>" when empty.
std::string ListWithMore(const std::vector<std::string>& list, bool more, size_t count,
                         size_t max);

// Joins with `sep`.
std::string Join(const std::vector<std::string>& list, std::string_view sep);

// status.loadBalancer of a Service or Ingress: the distinct ingress IPs (or hostnames when an
// entry has no IP), sorted and comma-joined; "" when none.
std::string LoadBalancerAddresses(const rapidjson::Value* load_balancer_status);

// A boolean pointer field as "True", "False" or "<unset>".
std::string BoolPtrString(const rapidjson::Value* v);

}  // namespace kite::tables::internal
