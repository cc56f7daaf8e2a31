#include "src/server/pki/kubeconfig.h"

#include <filesystem>

#include "src/base/base64.h"
#include "src/server/pki/atomic_file.h"

namespace kite::pki {
namespace {

// True if `s` reads back as the same string when written as a plain YAML scalar: URL
// characters only, and a first character that starts no other YAML construct.
bool IsPlainSafe(const std::string& s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == ':' || c == '/' || c == '.' || c == '-' || c == '_' || c == '[' ||
              c == ']' || c == '%' || c == '~' || c == '+' || c == '=' || c == '?' ||
              c == '@';
    if (!ok) return false;
  }
  unsigned char first = static_cast<unsigned char>(s[0]);
  bool alnum = (first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z') ||
               (first >= '0' && first <= '9');
  // "a: b" needs a space to be a mapping, which is excluded above; ":" at the end would
  // still end a key, so reject it.
  // A '/' also keeps it from reading as a number, bool or null.
  return alnum && s.back() != ':' && s.find('/') != std::string::npos;
}

std::string YamlScalar(const std::string& s) {
  if (IsPlainSafe(s)) return s;
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

}  // namespace

std::string RenderKubeconfig(const std::string& server_url, const std::string& ca_pem,
                             const std::string& client_cert_pem,
                             const std::string& client_key_pem) {
  std::string y;
  y += "apiVersion: v1\n";
  y += "clusters:\n";
  y += "- cluster:\n";
  // The *-data fields: standard base64 with padding, no line breaks, as client-go writes them.
  y += "    certificate-authority-data: " + Base64Encode(ca_pem) + "\n";
  y += "    server: " + YamlScalar(server_url) + "\n";
  y += "  name: default\n";
  y += "contexts:\n";
  y += "- context:\n";
  y += "    cluster: default\n";
  y += "    user: default\n";
  y += "  name: default\n";
  y += "current-context: default\n";
  y += "kind: Config\n";
  y += "preferences: {}\n";
  y += "users:\n";
  y += "- name: default\n";
  y += "  user:\n";
  y += "    client-certificate-data: " + Base64Encode(client_cert_pem) + "\n";
  y += "    client-key-data: " + Base64Encode(client_key_pem) + "\n";
  return y;
}

Status WriteKubeconfig(const std::string& path, const std::string& content, mode_t mode) {
  if (path.empty()) return InvalidArgumentError("empty kubeconfig path");
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) return IoError("cannot create " + parent.string() + ": " + ec.message());
  }
  return WriteFileAtomically(path, content, mode);
}

}  // namespace kite::pki
