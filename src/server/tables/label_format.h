// Label maps and label selectors printed the way Kubernetes prints them in table cells
// (internal to kite_tables). Pure functions, thread-safe.
#pragma once

#include <string>

#include <rapidjson/document.h>

namespace kite::tables::internal {

// A label map as "a=1,b=2" with keys sorted; "<none>" when empty or absent
// (labels.FormatLabels).
std::string FormatLabels(const rapidjson::Value* labels);

// A metav1.LabelSelector ({matchLabels, matchExpressions}) in selector syntax, requirements
// sorted by key: "app=web,tier in (a,b),!legacy". "<none>" when absent or empty, "<error>"
// when malformed (metav1.FormatLabelSelector).
std::string FormatLabelSelector(const rapidjson::Value* selector);

// The same text as LabelSelectorAsSelector(s).String(), which the Deployment printer uses:
// "" when absent or empty, "<invalid>" when malformed.
std::string LabelSelectorString(const rapidjson::Value* selector);

}  // namespace kite::tables::internal
