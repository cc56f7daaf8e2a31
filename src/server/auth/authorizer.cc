#include "src/server/auth/authorizer.h"

namespace kite::auth {

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string ForbiddenMessage(const Attributes& a, const Decision& decision) {
  std::string detail;
  std::string prefix;
  if (!a.resource_request) {
    prefix = "forbidden: ";
    detail = "User " + Quote(a.user) + " cannot " + a.verb + " path " + Quote(a.path);
  } else {
    std::string resource = a.resource;
    if (!a.subresource.empty()) resource += "/" + a.subresource;
    detail = "User " + Quote(a.user) + " cannot " + a.verb + " resource " + Quote(resource) +
             " in API group " + Quote(a.api_group);
    detail += a.namespace_name.empty() ? std::string(" at the cluster scope")
                                       : " in the namespace " + Quote(a.namespace_name);
    // The qualified resource leaves the subresource out, as Kubernetes' GroupResource does.
    std::string qualified = a.resource;
    if (!a.api_group.empty()) qualified += "." + a.api_group;
    if (qualified.empty()) {
      prefix = "forbidden: ";
    } else if (a.name.empty()) {
      prefix = qualified + " is forbidden: ";
    } else {
      prefix = qualified + " " + Quote(a.name) + " is forbidden: ";
    }
  }
  std::string message = prefix + detail;
  if (!decision.reason.empty()) message += ": " + decision.reason;
  return message;
}

std::string ServiceAccountUsername(std::string_view namespace_name, std::string_view name) {
  return "system:serviceaccount:" + std::string(namespace_name) + ":" + std::string(name);
}

std::vector<std::string> ServiceAccountGroups(std::string_view namespace_name) {
  return {"system:serviceaccounts", "system:serviceaccounts:" + std::string(namespace_name)};
}

}  // namespace kite::auth
