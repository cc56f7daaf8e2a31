#include "src/agent/image_puller.h"

#include <fnmatch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "src/agent/volumes/object_data.h"
#include "src/base/base64.h"
#include "src/server/json/json_util.h"

namespace kite::agent {
namespace {

using rapidjson::Value;

constexpr char kDefaultRegistryHost[] = "index.docker.io";

struct ImageName {
  std::string repository;  // "docker.io/library/busybox"
  std::string tag;         // "" when none
  bool digest = false;
};

// parsers.ParseImageName without the default tag: the normalized repository and the tag.
ImageName ParseImage(std::string_view image) {
  ImageName out;
  std::string_view rest = image;
  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    out.digest = true;
    rest = rest.substr(0, at);
  }
  size_t colon = rest.rfind(':');
  size_t slash = rest.rfind('/');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    out.tag = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
  }
  std::string_view domain = "docker.io";
  size_t first = rest.find('/');
  if (first != std::string_view::npos) {
    std::string_view head = rest.substr(0, first);
    if (head.find_first_of(".:") != std::string_view::npos || head == "localhost") {
      domain = head == kDefaultRegistryHost ? std::string_view("docker.io") : head;
      rest = rest.substr(first + 1);
    }
  }
  std::string path(rest);
  if (domain == "docker.io" && path.find('/') == std::string::npos) path = "library/" + path;
  out.repository = std::string(domain) + "/" + path;
  return out;
}

struct Location {
  std::string host;  // without the port
  std::string port;
  std::string path;  // "" or "/..."
};

// A schemeless (or http(s)://) registry location, as url.Parse sees "https://" + it.
Location ParseLocation(std::string_view text) {
  if (text.rfind("https://", 0) == 0) {
    text.remove_prefix(8);
  } else if (text.rfind("http://", 0) == 0) {
    text.remove_prefix(7);
  }
  Location out;
  size_t slash = text.find('/');
  std::string_view host = text.substr(0, slash);
  if (slash != std::string_view::npos) out.path = text.substr(slash);
  size_t colon = host.rfind(':');
  if (colon != std::string_view::npos && host.find(']') == std::string_view::npos) {
    out.port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  out.host = host;
  return out;
}

// The keyring's key for a docker config entry: host[:port] plus a path other than /v1/, /v2/.
std::string KeyringKey(std::string_view entry) {
  Location l = ParseLocation(entry);
  std::string path = l.path;
  if (path.rfind("/v2/", 0) == 0 || path.rfind("/v1/", 0) == 0) path = path.substr(3);
  std::string key = l.host + (l.port.empty() ? "" : ":" + l.port);
  if (!path.empty() && path != "/") key += path;
  return key;
}

std::vector<std::string> SplitDots(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    out.push_back(s.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) return out;
    start = dot + 1;
  }
}

// credentialprovider.URLsMatchStr: host labels match as globs, ports equal, the key's path
// a prefix of the image's.
bool UrlsMatch(std::string_view key, std::string_view target) {
  Location glob = ParseLocation(key), image = ParseLocation(target);
  if (glob.port != image.port) return false;
  std::vector<std::string> g = SplitDots(glob.host), t = SplitDots(image.host);
  if (g.size() != t.size()) return false;
  for (size_t i = 0; i < g.size(); ++i) {
    if (fnmatch(g[i].c_str(), t[i].c_str(), 0) != 0) return false;
  }
  return image.path.compare(0, glob.path.size(), glob.path) == 0;
}

// credentialprovider.isDefaultRegistryMatch.
bool IsDefaultRegistry(std::string_view image) {
  size_t slash = image.find('/');
  if (slash == 0) return false;
  if (slash == std::string_view::npos) return true;
  std::string_view head = image.substr(0, slash);
  if (head == "docker.io" || head == kDefaultRegistryHost) return true;
  return head.find_first_of(".:") == std::string_view::npos && head != "localhost";
}

// The credentials of one docker config entry; the username and password come from "auth"
// (base64 "user:password") when not given apart. No server address, as the kubelet sends
// none: the keyring already matched the registry, and containerd 1.6 would parse a
// schemeless "host:port" as a URL, fail, and refuse the pull.
runtime::PullAuth Credentials(const Value& entry) {
  runtime::PullAuth auth;
  auth.username = json::StringMember(entry, "username");
  auth.password = json::StringMember(entry, "password");
  auth.auth = json::StringMember(entry, "auth");
  if (auth.username.empty() && !auth.auth.empty()) {
    if (std::optional<std::string> decoded = Base64Decode(auth.auth, Base64Padding::kOptional)) {
      size_t colon = decoded->find(':');
      if (colon != std::string::npos) {
        auth.username = decoded->substr(0, colon);
        auth.password = decoded->substr(colon + 1);
      }
    }
  }
  return auth;
}

}  // namespace

std::string PullPolicy(const Value& container) {
  std::string_view policy = json::StringMember(container, "imagePullPolicy");
  if (!policy.empty()) return std::string(policy);
  ImageName name = ParseImage(json::StringMember(container, "image"));
  if (name.tag == "latest" || (name.tag.empty() && !name.digest)) return "Always";
  return "IfNotPresent";
}

std::vector<runtime::PullAuth> PullCredentials(const std::string& image,
                                               const std::vector<client::ObjectPtr>& secrets) {
  // The keyring: (key, credentials) in the order they were added.
  std::vector<std::pair<std::string, runtime::PullAuth>> keyring;
  for (const client::ObjectPtr& secret : secrets) {
    volumes::KeyValues data = volumes::SecretData(*secret);
    const Value* entries = nullptr;
    Result<rapidjson::Document> parsed = InvalidArgumentError("none");
    if (auto it = data.find(".dockerconfigjson"); it != data.end()) {
      parsed = json::ParseJsonObject(it->second);
      if (parsed.ok()) entries = json::Member(*parsed, "auths");
    } else if (auto old = data.find(".dockercfg"); old != data.end()) {
      parsed = json::ParseJsonObject(old->second);
      if (parsed.ok()) entries = &*parsed;
    }
    if (!entries || !entries->IsObject()) continue;
    for (const auto& m : entries->GetObject()) {
      if (!m.value.IsObject()) continue;
      std::string key = KeyringKey(std::string_view(m.name.GetString(), m.name.GetStringLength()));
      keyring.emplace_back(key, Credentials(m.value));
    }
  }
  std::string repository = ParseImage(image).repository;
  std::vector<runtime::PullAuth> out;
  for (const auto& [key, auth] : keyring) {
    if (UrlsMatch(key, repository)) out.push_back(auth);
  }
  if (out.empty() && IsDefaultRegistry(repository)) {
    for (const auto& [key, auth] : keyring) {
      if (key == kDefaultRegistryHost) out.push_back(auth);
    }
  }
  return out;
}

ImagePullOutcome ImagePuller::Ensure(const Value& pod, const Value& container, runtime::Runtime& rt,
                                     PodObjects* objects, int64_t now) {
  ImagePullOutcome out;
  std::string image(json::StringMember(container, "image"));
  auto event = [&](client::EventType type, std::string_view reason, const std::string& message) {
    if (recorder_.enabled()) {
      recorder_.Event(client::ContainerReferenceTo(pod, json::StringMember(container, "name")), type, reason, message);
    }
  };
  if (image.empty()) {
    // API validation refuses such pods; should one get here, the runtime's refusal to create
    // the container says what is wrong.
    out.ok = true;
    return out;
  }
  std::string policy = PullPolicy(container);
  if (policy != "Always") {
    Result<std::optional<std::string>> present = rt.ImageRef(image);
    if (!present.ok()) {
      out.reason = "ImageInspectError";
      out.message = "Failed to inspect image \"" + image + "\": " + present.status().message();
      event(client::EventType::kWarning, "InspectFailed", out.message);
      return out;
    }
    if (*present) {
      out.ok = true;
      out.image_ref = **present;
      event(client::EventType::kNormal, "Pulled", "Container image \"" + image + "\" already present on machine");
      return out;
    }
    if (policy == "Never") {
      out.reason = "ErrImageNeverPull";
      out.message = "Container image \"" + image + "\" is not present with pull policy of Never";
      event(client::EventType::kWarning, "ErrImageNeverPull", out.message);
      return out;
    }
  }

  Backoff& b = backoff_[image];
  if (b.wait > 0 && now - b.last_update < b.wait) {
    out.reason = "ImagePullBackOff";
    // As the kubelet (1.32) writes it: the last pull's error follows, so the status says why.
    out.message = "Back-off pulling image \"" + image + "\"";
    if (!b.last_error.empty()) out.message += ": ErrImagePull: " + b.last_error;
    out.retry_at = b.last_update + b.wait;
    event(client::EventType::kNormal, "BackOff", "Back-off pulling image \"" + image + "\"");
    return out;
  }

  std::vector<client::ObjectPtr> secrets;
  const Value* spec = json::Member(pod, "spec");
  const Value* refs = spec ? json::Member(*spec, "imagePullSecrets") : nullptr;
  if (objects && refs && refs->IsArray()) {
    const Value* md = json::Member(pod, "metadata");
    std::string_view ns = md ? json::StringMember(*md, "namespace") : "";
    for (const Value& ref : refs->GetArray()) {
      std::string_view name = json::StringMember(ref, "name");
      if (name.empty()) continue;
      // A missing pull secret is not an error: the pull may work without it.
      Result<client::ObjectPtr> secret = objects->Secret(ns, name);
      if (secret.ok()) secrets.push_back(*secret);
    }
  }
  std::vector<runtime::PullAuth> credentials = PullCredentials(image, secrets);
  event(client::EventType::kNormal, "Pulling", "Pulling image \"" + image + "\"");
  auto pull_started = std::chrono::steady_clock::now();
  Result<std::string> pulled = InternalError("no pull attempted");
  std::vector<std::string> errors;
  if (credentials.empty()) {
    pulled = rt.PullImage(image);
    if (!pulled.ok()) errors.push_back(pulled.status().message());
  } else {
    for (const runtime::PullAuth& auth : credentials) {
      pulled = rt.PullImage(image, auth);
      if (pulled.ok()) break;
      errors.push_back(pulled.status().message());
    }
  }
  if (pulled.ok()) {
    out.ok = true;
    out.image_ref = *pulled;
    b.last_error.clear();
    if (recorder_.enabled()) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - pull_started)
                    .count();
      char took[32];
      if (ms < 1000) {
        std::snprintf(took, sizeof(took), "%lldms", static_cast<long long>(ms));
      } else {
        std::snprintf(took, sizeof(took), "%.3fs", static_cast<double>(ms) / 1000);
      }
      event(client::EventType::kNormal, "Pulled",
            "Successfully pulled image \"" + image + "\" in " + took + " (" + took + " including waiting)");
    }
    return out;
  }
  // flowcontrol.Backoff.Next: start at 10 s, or double; an entry idle for twice the maximum
  // starts again.
  if (b.wait == 0 || now - b.last_update > 2 * kMaxBackoffMillis) {
    b.wait = kInitialBackoffMillis;
  } else {
    b.wait = std::min(b.wait * 2, kMaxBackoffMillis);
  }
  b.last_update = now;
  out.reason = "ErrImagePull";
  if (errors.size() == 1) {
    out.message = errors[0];
  } else {
    out.message = "[";
    for (size_t i = 0; i < errors.size(); ++i) out.message += (i ? ", " : "") + errors[i];
    out.message += "]";
  }
  b.last_error = out.message;
  event(client::EventType::kWarning, "Failed", "Failed to pull image \"" + image + "\": " + out.message);
  // ErrImagePull shows until the next look, which then finds the back-off.
  out.retry_at = now + 1000;
  return out;
}

}  // namespace kite::agent
