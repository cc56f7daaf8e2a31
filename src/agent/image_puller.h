// ImagePuller: makes a container's image available before the container is created, as
// the kubelet's image manager does (pkg/kubelet/images/image_manager.go EnsureImageExists,
// pkg/credentialprovider keyring).
//
// Operation of Ensure: the pull policy is the container's imagePullPolicy, or the default
// admission gives (Always for a :latest or untagged image, else IfNotPresent).
//   - Never: the image must be present (Runtime::ImageRef), else waiting/ErrImageNeverPull
//     `Container image "x" is not present with pull policy of Never`.
//   - IfNotPresent: present → done; else pull.
//   - Always: pull.
// A pull uses the credentials of the pod's imagePullSecrets (kubernetes.io/dockerconfigjson
// `.dockerconfigjson` and kubernetes.io/dockercfg `.dockercfg`) whose registry matches the
// image (host[:port] with `*` globs per label, an optional path prefix; Docker Hub's
// index.docker.io / docker.io entries for images without a registry), each in turn until
// one works; anonymously when none matches. A failed pull is waiting/ErrImagePull with the
// runtime's message, and starts a back-off per image (10 s doubling to 5 minutes, like
// restarts); while it lasts the container is waiting/ImagePullBackOff
// `Back-off pulling image "x": ErrImagePull: <the last pull's message>` (kubelet 1.32). An
// empty image (which validation refuses) is left to the runtime to refuse. Credentials carry
// no server address, as the kubelet's (containerd 1.6 refuses a schemeless "host:port" one).
//
// Events (with a recorder, on the container: fieldPath spec.containers{name}), as the
// kubelet's: Pulled "Container image "x" already present on machine", Pulling, Pulled
// "Successfully pulled image "x" in 1.2s (1.2s including waiting)", Failed "Failed to pull
// image "x": ...", BackOff "Back-off pulling image "x"", ErrImageNeverPull, InspectFailed.
//
// Thread-safety: none; one per pod, used by that pod's sync only.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "src/agent/pod_objects.h"
#include "src/runtime/runtime.h"
#include "src/server/client/event_recorder.h"

namespace kite::agent {

struct ImagePullOutcome {
  bool ok = false;
  std::string image_ref;  // when ok
  std::string reason;     // when not: ErrImagePull, ImagePullBackOff, ErrImageNeverPull, ...
  std::string message;
  int64_t retry_at = 0;  // when not: the clock time to look again (0 = on the next sync)
};

class ImagePuller {
 public:
  static constexpr int64_t kInitialBackoffMillis = 10'000;
  static constexpr int64_t kMaxBackoffMillis = 300'000;

  // Where the Events go (default: nowhere). Set before the first Ensure.
  void SetRecorder(client::EventRecorder recorder) { recorder_ = std::move(recorder); }

  // `objects` may be null (no pull secrets are read).
  ImagePullOutcome Ensure(const rapidjson::Value& pod, const rapidjson::Value& container,
                          runtime::Runtime& rt, PodObjects* objects, int64_t now);

 private:
  struct Backoff {
    int64_t wait = 0;
    int64_t last_update = 0;
    std::string last_error;  // the last failed pull's message
  };
  std::map<std::string, Backoff> backoff_;  // by image
  client::EventRecorder recorder_;
};

// The pull policy in effect for the container.
std::string PullPolicy(const rapidjson::Value& container);

// The credentials for `image` from pull secrets (Secret objects), in the secrets' order.
std::vector<runtime::PullAuth> PullCredentials(const std::string& image,
                                               const std::vector<client::ObjectPtr>& secrets);

}  // namespace kite::agent
