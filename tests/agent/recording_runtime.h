// A Runtime for agent tests: the fake runtime underneath, with the image store decided by
// the test and every sandbox and container config recorded, so a test can look at what the
// agent asked the runtime for.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "src/base/mutex.h"
#include "src/runtime/fake_runtime.h"

namespace kite::testing {

class RecordingRuntime : public runtime::Runtime {
 public:
  explicit RecordingRuntime(const Clock* clock = nullptr) {
    auto made = runtime::FakeRuntime::Create({"10.42.7.0/24", clock});
    REQUIRE(made.ok());
    fake_ = std::move(made).value();
  }

  // Images: with `all_images` every image is present; otherwise `present` are, and a pull
  // finds those in `pullable` (needing `required_user` when set).
  bool all_images = true;
  std::set<std::string> present;
  std::set<std::string> pullable;
  std::string required_user;
  std::vector<std::pair<std::string, std::string>> pulls;  // (image, username) per attempt

  std::vector<runtime::PodSandboxConfig> sandboxes;  // RunPodSandbox calls
  std::vector<runtime::ContainerConfig> containers;  // CreateContainer calls
  std::vector<runtime::PodSandboxConfig> container_sandboxes;  // their sandbox configs

  runtime::FakeRuntime& fake() { return *fake_; }

  runtime::VersionInfo Version() const override { return fake_->Version(); }
  Result<std::string> PullImage(const std::string& image) override { return PullImage(image, {}); }
  Result<std::string> PullImage(const std::string& image, const runtime::PullAuth& auth) override {
    pulls.emplace_back(image, auth.username);
    if (all_images) return "sha256:" + image;
    if (!pullable.count(image)) return UnavailableError("failed to pull and unpack image \"" + image + "\": not found");
    if (!required_user.empty() && auth.username != required_user) return UnavailableError("401 Unauthorized");
    present.insert(image);
    return "sha256:" + image;
  }
  Result<std::optional<std::string>> ImageRef(const std::string& image) override {
    if (all_images || present.count(image)) return std::optional<std::string>("sha256:" + image);
    return std::optional<std::string>();
  }
  Result<std::string> RunPodSandbox(const runtime::PodSandboxConfig& c) override {
    sandboxes.push_back(c);
    return fake_->RunPodSandbox(c);
  }
  Status StopPodSandbox(const std::string& id) override { return fake_->StopPodSandbox(id); }
  Status RemovePodSandbox(const std::string& id) override { return fake_->RemovePodSandbox(id); }
  Result<runtime::PodSandbox> PodSandboxStatus(const std::string& id) override { return fake_->PodSandboxStatus(id); }
  Result<std::vector<runtime::PodSandbox>> ListPodSandbox() override { return fake_->ListPodSandbox(); }
  Result<std::string> CreateContainer(const std::string& id, const runtime::ContainerConfig& c,
                                      const runtime::PodSandboxConfig& s) override {
    containers.push_back(c);
    container_sandboxes.push_back(s);
    return fake_->CreateContainer(id, c, s);
  }
  Status StartContainer(const std::string& id) override { return fake_->StartContainer(id); }
  Status StopContainer(const std::string& id, int64_t t) override { return fake_->StopContainer(id, t); }
  Status RemoveContainer(const std::string& id) override { return fake_->RemoveContainer(id); }
  Result<runtime::Container> ContainerStatus(const std::string& id) override { return fake_->ContainerStatus(id); }
  Result<std::vector<runtime::Container>> ListContainers(const std::string& id) override {
    return fake_->ListContainers(id);
  }
  Result<runtime::ExecSyncResult> ExecSync(const std::string& id, const std::vector<std::string>& command,
                                           int64_t timeout_seconds) override {
    return fake_->ExecSync(id, command, timeout_seconds);
  }

 private:
  std::unique_ptr<runtime::FakeRuntime> fake_;
};

}  // namespace kite::testing
