// CriRuntime against an in-process fake runtime.v1 server: what each Runtime call sends
// (field by field), how replies and gRPC errors come back, without containerd.
#include <catch2/catch.hpp>

#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>
#include <vector>

// Kite's headers first: gRPC pulls in absl, which defines the same annotation macros.
#include "src/base/mutex.h"
#include "src/runtime/cri/cri_runtime.h"

#include <grpcpp/grpcpp.h>

#include "src/runtime/cri/api.grpc.pb.h"

namespace kite::runtime {
namespace {

namespace cri = ::runtime::v1;
using namespace std::chrono_literals;
using grpc::ServerContext;

constexpr int64_t kNanos = 1700000000123456789;  // 2023-11-14T22:13:20.123456789Z
constexpr char kNotFoundText[] = "an error occurred when try to find container \"gone\": not found";

// Records the last request of each kind; answers from canned data keyed by id.
class FakeCri final : public cri::RuntimeService::Service, public cri::ImageService::Service {
 public:
  grpc::Status Version(ServerContext*, const cri::VersionRequest* req,
                       cri::VersionResponse* resp) override {
    resp->set_version(req->version());
    resp->set_runtime_name("fake-cri");
    resp->set_runtime_version("9.9");
    return grpc::Status::OK;
  }

  grpc::Status Status(ServerContext*, const cri::StatusRequest*,
                      cri::StatusResponse* resp) override {
    MutexLock lock(mu_);
    auto* runtime = resp->mutable_status()->add_conditions();
    runtime->set_type("RuntimeReady");
    runtime->set_status(true);
    auto* network = resp->mutable_status()->add_conditions();
    network->set_type("NetworkReady");
    network->set_status(network_ready_);
    if (!network_ready_) {
      network->set_reason("NetworkPluginNotReady");
      network->set_message("cni config uninitialized");
    }
    return grpc::Status::OK;
  }

  grpc::Status RunPodSandbox(ServerContext*, const cri::RunPodSandboxRequest* req,
                             cri::RunPodSandboxResponse* resp) override {
    MutexLock lock(mu_);
    rec_.run_sandbox = *req;
    if (req->config().metadata().name() == "exhausted") {
      return {grpc::StatusCode::RESOURCE_EXHAUSTED, "no IP addresses available in range"};
    }
    resp->set_pod_sandbox_id("sb-1");
    return grpc::Status::OK;
  }

  grpc::Status StopPodSandbox(ServerContext*, const cri::StopPodSandboxRequest* req,
                              cri::StopPodSandboxResponse*) override {
    return ByIdError(req->pod_sandbox_id());
  }
  grpc::Status RemovePodSandbox(ServerContext*, const cri::RemovePodSandboxRequest* req,
                                cri::RemovePodSandboxResponse*) override {
    return ByIdError(req->pod_sandbox_id());
  }

  grpc::Status PodSandboxStatus(ServerContext*, const cri::PodSandboxStatusRequest* req,
                                cri::PodSandboxStatusResponse* resp) override {
    if (req->pod_sandbox_id() == "empty") return grpc::Status::OK;  // no status message
    if (req->pod_sandbox_id() != "sb-1") return {grpc::StatusCode::NOT_FOUND, "no such sandbox"};
    cri::PodSandboxStatus* s = resp->mutable_status();
    s->set_id("sb-1");
    s->mutable_metadata()->set_name("web");
    s->mutable_metadata()->set_namespace_("prod");
    s->mutable_metadata()->set_uid("u1");
    s->mutable_metadata()->set_attempt(2);
    s->set_state(cri::SANDBOX_NOTREADY);
    s->set_created_at(kNanos);
    s->mutable_network()->set_ip("10.1.2.3");
    (*s->mutable_labels())["app"] = "web";
    (*s->mutable_annotations())["note"] = "n";
    return grpc::Status::OK;
  }

  grpc::Status ListPodSandbox(ServerContext*, const cri::ListPodSandboxRequest*,
                              cri::ListPodSandboxResponse* resp) override {
    resp->add_items()->set_id("sb-1");
    resp->add_items()->set_id("vanished");  // its status says NOT_FOUND: removed meanwhile
    return grpc::Status::OK;
  }

  grpc::Status CreateContainer(ServerContext*, const cri::CreateContainerRequest* req,
                               cri::CreateContainerResponse* resp) override {
    MutexLock lock(mu_);
    rec_.create_container = *req;
    if (req->pod_sandbox_id() == "gone") return {grpc::StatusCode::UNKNOWN, kNotFoundText};
    if (req->pod_sandbox_id() == "not-ready") {
      return {grpc::StatusCode::FAILED_PRECONDITION, "sandbox is not running"};
    }
    resp->set_container_id("c-1");
    return grpc::Status::OK;
  }

  grpc::Status StartContainer(ServerContext*, const cri::StartContainerRequest* req,
                              cri::StartContainerResponse*) override {
    if (req->container_id() == "slow") std::this_thread::sleep_for(500ms);
    return ByIdError(req->container_id());
  }

  grpc::Status StopContainer(ServerContext*, const cri::StopContainerRequest* req,
                             cri::StopContainerResponse*) override {
    MutexLock lock(mu_);
    rec_.stop_timeout = req->timeout();
    return ByIdError(req->container_id());
  }
  grpc::Status RemoveContainer(ServerContext*, const cri::RemoveContainerRequest* req,
                               cri::RemoveContainerResponse*) override {
    return ByIdError(req->container_id());
  }

  grpc::Status ListContainers(ServerContext*, const cri::ListContainersRequest* req,
                              cri::ListContainersResponse* resp) override {
    MutexLock lock(mu_);
    rec_.list_filter = req->filter();
    for (const char* id : {"c-1", "c-vanished"}) {
      if (!req->filter().id().empty() && req->filter().id() != id) continue;
      cri::Container* c = resp->add_containers();
      c->set_id(id);
      c->set_pod_sandbox_id("sb-1");
      c->set_state(cri::CONTAINER_RUNNING);
    }
    return grpc::Status::OK;
  }

  grpc::Status ContainerStatus(ServerContext*, const cri::ContainerStatusRequest* req,
                               cri::ContainerStatusResponse* resp) override {
    if (req->container_id() != "c-1") return {grpc::StatusCode::UNKNOWN, kNotFoundText};
    cri::ContainerStatus* s = resp->mutable_status();
    s->set_id("c-1");
    s->mutable_metadata()->set_name("app");
    s->mutable_metadata()->set_attempt(4);
    s->set_state(cri::CONTAINER_EXITED);
    s->set_created_at(kNanos);
    s->set_started_at(kNanos + 1000000000);
    s->set_finished_at(kNanos + 2000000000);
    s->set_exit_code(137);
    s->mutable_image()->set_image("kite.local/busybox:1");
    s->set_image_ref("sha256:abc");
    s->set_reason("OOMKilled");
    s->set_message("killed");
    s->set_log_path("/logs/app/4.log");
    (*s->mutable_labels())["io.kubernetes.container.name"] = "app";
    (*s->mutable_annotations())["a"] = "b";
    return grpc::Status::OK;
  }

  grpc::Status ExecSync(ServerContext*, const cri::ExecSyncRequest* req,
                        cri::ExecSyncResponse* resp) override {
    MutexLock lock(mu_);
    rec_.exec_sync = *req;
    resp->set_stdout(std::string("out\0put", 7));
    resp->set_stderr("err");
    resp->set_exit_code(3);
    return grpc::Status::OK;
  }

  grpc::Status Exec(ServerContext*, const cri::ExecRequest* req, cri::ExecResponse* resp) override {
    MutexLock lock(mu_);
    rec_.exec = *req;
    resp->set_url("http://127.0.0.1:1/exec/t1");
    return grpc::Status::OK;
  }
  grpc::Status Attach(ServerContext*, const cri::AttachRequest* req,
                      cri::AttachResponse* resp) override {
    MutexLock lock(mu_);
    rec_.attach = *req;
    resp->set_url("http://127.0.0.1:1/attach/t2");
    return grpc::Status::OK;
  }
  grpc::Status PortForward(ServerContext*, const cri::PortForwardRequest* req,
                           cri::PortForwardResponse* resp) override {
    MutexLock lock(mu_);
    rec_.port_forward = *req;
    resp->set_url("http://127.0.0.1:1/portforward/t3");
    return grpc::Status::OK;
  }

  grpc::Status ListContainerStats(ServerContext*, const cri::ListContainerStatsRequest*,
                                  cri::ListContainerStatsResponse* resp) override {
    cri::ContainerStats* s = resp->add_stats();
    s->mutable_attributes()->set_id("c-1");
    s->mutable_cpu()->set_timestamp(kNanos);
    s->mutable_cpu()->mutable_usage_core_nano_seconds()->set_value(123456);
    s->mutable_memory()->set_timestamp(kNanos);
    s->mutable_memory()->mutable_working_set_bytes()->set_value(4096);
    return grpc::Status::OK;
  }

  // ImageService
  grpc::Status ImageStatus(ServerContext*, const cri::ImageStatusRequest* req,
                           cri::ImageStatusResponse* resp) override {
    if (req->image().image() == "present:1") resp->mutable_image()->set_id("sha256:present");
    return grpc::Status::OK;  // absent: no image in the reply, as CRI says
  }
  grpc::Status PullImage(ServerContext*, const cri::PullImageRequest* req,
                         cri::PullImageResponse* resp) override {
    MutexLock lock(mu_);
    rec_.pull = *req;
    if (req->image().image() == "denied:1") {
      return {grpc::StatusCode::PERMISSION_DENIED, "401 Unauthorized"};
    }
    resp->set_image_ref("sha256:pulled");
    return grpc::Status::OK;
  }
  grpc::Status RemoveImage(ServerContext*, const cri::RemoveImageRequest* req,
                           cri::RemoveImageResponse*) override {
    return ByIdError(req->image().image());
  }
  grpc::Status ListImages(ServerContext*, const cri::ListImagesRequest*,
                          cri::ListImagesResponse* resp) override {
    cri::Image* image = resp->add_images();
    image->set_id("sha256:i");
    image->add_repo_tags("kite.local/busybox:1");
    image->add_repo_digests("kite.local/busybox@sha256:d");
    image->set_size(1234);
    return grpc::Status::OK;
  }

  // Errors by the id's name, the same for every call that takes an id.
  static grpc::Status ByIdError(const std::string& id) {
    if (id == "gone") return {grpc::StatusCode::UNKNOWN, kNotFoundText};
    if (id == "missing") return {grpc::StatusCode::NOT_FOUND, "container \"missing\" not found"};
    if (id == "broken") return {grpc::StatusCode::UNKNOWN, "failed to kill: boom"};
    if (id == "invalid") return {grpc::StatusCode::INVALID_ARGUMENT, "bad id"};
    if (id == "down") return {grpc::StatusCode::UNAVAILABLE, "shutting down"};
    return grpc::Status::OK;
  }

  // The last request of each kind, copied out for the test's checks.
  struct Recorded {
    cri::RunPodSandboxRequest run_sandbox;
    cri::CreateContainerRequest create_container;
    cri::ContainerFilter list_filter;
    int64_t stop_timeout = -1;
    cri::ExecSyncRequest exec_sync;
    cri::ExecRequest exec;
    cri::AttachRequest attach;
    cri::PortForwardRequest port_forward;
    cri::PullImageRequest pull;
  };
  Recorded recorded() {
    MutexLock lock(mu_);
    return rec_;
  }
  void set_network_ready(bool ready) {
    MutexLock lock(mu_);
    network_ready_ = ready;
  }

 private:
  Mutex mu_;
  bool network_ready_ GUARDED_BY(mu_) = true;
  Recorded rec_ GUARDED_BY(mu_);
};

// A FakeCri served on a unix socket in a fresh temp folder.
class FakeServer {
 public:
  FakeServer() {
    char dir[] = "/tmp/kcri-unit-XXXXXX";
    REQUIRE(mkdtemp(dir) != nullptr);
    dir_ = dir;
    socket_ = dir_ + "/cri.sock";
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix://" + socket_, grpc::InsecureServerCredentials());
    builder.RegisterService(static_cast<cri::RuntimeService::Service*>(&fake));
    builder.RegisterService(static_cast<cri::ImageService::Service*>(&fake));
    server_ = builder.BuildAndStart();
    REQUIRE(server_ != nullptr);
  }
  ~FakeServer() {
    server_->Shutdown(std::chrono::system_clock::now() + 1s);
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  const std::string& socket() const { return socket_; }

  FakeCri fake;

 private:
  std::string dir_;
  std::string socket_;
  std::unique_ptr<grpc::Server> server_;
};

std::unique_ptr<CriRuntime> Client(const std::string& socket,
                                   std::chrono::milliseconds timeout = 10s) {
  auto rt = CriRuntime::Connect(socket, timeout);
  REQUIRE(rt.ok());
  return std::move(rt).value();
}

PodSandboxConfig FullSandbox() {
  PodSandboxConfig sb;
  sb.metadata = {"web", "prod", "u1", 2};
  sb.hostname = "web-0";
  sb.log_directory = "/logs/prod_web_u1";
  sb.dns = {{"10.96.0.10", "10.96.0.11"}, {"prod.svc.cluster.local"}, {"ndots:5"}};
  sb.port_mappings = {{"TCP", 80, 8080, "127.0.0.1"}, {"UDP", 53, 0, ""}, {"SCTP", 9, 0, ""}};
  sb.cgroup_parent = "/kubepods/burstable/podu1";
  sb.labels = {{"app", "web"}};
  sb.annotations = {{"note", "n"}};
  return sb;
}

TEST_CASE("cri client: Connect checks its arguments and needs no server") {
  CHECK(CriRuntime::Connect("").status().code() == StatusCode::kInvalidArgument);
  CHECK(CriRuntime::Connect("/tmp/" + std::string(120, 'x')).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(CriRuntime::Connect("/tmp/x.sock", 0ms).status().code() == StatusCode::kInvalidArgument);

  // Nothing listens: every call fails fast with kUnavailable, prefixed by the call.
  auto rt = Client("/tmp/kite-cri-unit-no-such-" + std::to_string(getpid()) + ".sock");
  auto start = std::chrono::steady_clock::now();
  auto version = rt->QueryVersion();
  CHECK(version.status().code() == StatusCode::kUnavailable);
  CHECK(version.status().message().rfind("Version: ", 0) == 0);
  auto sandbox = rt->RunPodSandbox(FullSandbox());
  CHECK(sandbox.status().code() == StatusCode::kUnavailable);
  CHECK(sandbox.status().message().rfind("RunPodSandbox: ", 0) == 0);
  CHECK(rt->StopContainer("c", 30).code() == StatusCode::kUnavailable);
  CHECK(rt->ListContainers("").status().code() == StatusCode::kUnavailable);
  CHECK(rt->Ready().code() == StatusCode::kUnavailable);
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  CHECK(rt->Version().runtime_name == "containerd");  // the fallback while unreachable
  CHECK(rt->Version().runtime_version.empty());
}

TEST_CASE("cri client: sandbox requests and replies") {
  FakeServer server;
  auto rt = Client(server.socket());

  VersionInfo version = rt->Version();
  CHECK(version.runtime_name == "fake-cri");
  CHECK(version.runtime_version == "9.9");

  PodSandboxConfig sb = FullSandbox();
  auto id = rt->RunPodSandbox(sb);
  REQUIRE(id.ok());
  CHECK(*id == "sb-1");
  {
    const FakeCri::Recorded rec = server.fake.recorded();
    const cri::PodSandboxConfig& c = rec.run_sandbox.config();
    CHECK(c.metadata().name() == "web");
    CHECK(c.metadata().namespace_() == "prod");
    CHECK(c.metadata().uid() == "u1");
    CHECK(c.metadata().attempt() == 2);
    CHECK(c.hostname() == "web-0");
    CHECK(c.log_directory() == "/logs/prod_web_u1");
    REQUIRE(c.dns_config().servers_size() == 2);
    CHECK(c.dns_config().servers(1) == "10.96.0.11");
    CHECK(c.dns_config().searches(0) == "prod.svc.cluster.local");
    CHECK(c.dns_config().options(0) == "ndots:5");
    REQUIRE(c.port_mappings_size() == 3);
    CHECK(c.port_mappings(0).protocol() == cri::TCP);
    CHECK(c.port_mappings(0).container_port() == 80);
    CHECK(c.port_mappings(0).host_port() == 8080);
    CHECK(c.port_mappings(0).host_ip() == "127.0.0.1");
    CHECK(c.port_mappings(1).protocol() == cri::UDP);
    CHECK(c.port_mappings(2).protocol() == cri::SCTP);
    CHECK(c.labels().at("app") == "web");
    CHECK(c.annotations().at("note") == "n");
    CHECK(c.linux().cgroup_parent() == "/kubepods/burstable/podu1");
    const cri::NamespaceOption& ns = c.linux().security_context().namespace_options();
    CHECK(ns.network() == cri::POD);
    CHECK(ns.pid() == cri::CONTAINER);
    CHECK(ns.ipc() == cri::POD);
  }

  sb.host_network = true;
  REQUIRE(rt->RunPodSandbox(sb).ok());
  {
    const FakeCri::Recorded rec = server.fake.recorded();
    CHECK(rec.run_sandbox.config().linux().security_context().namespace_options().network() ==
          cri::NODE);
  }

  sb.port_mappings = {{"ICMP", 1, 0, ""}};
  auto bad = rt->RunPodSandbox(sb);
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
  CHECK(bad.status().message() ==
        "RunPodSandbox: port mapping protocol \"ICMP\" is not one of TCP, UDP, SCTP");

  PodSandboxConfig exhausted = FullSandbox();
  exhausted.metadata.name = "exhausted";
  auto no_ip = rt->RunPodSandbox(exhausted);
  CHECK(no_ip.status().code() == StatusCode::kResourceExhausted);
  CHECK(no_ip.status().message() == "RunPodSandbox: no IP addresses available in range");

  auto status = rt->PodSandboxStatus("sb-1");
  REQUIRE(status.ok());
  CHECK(status->id == "sb-1");
  CHECK(status->metadata.name == "web");
  CHECK(status->metadata.namespace_ == "prod");
  CHECK(status->metadata.uid == "u1");
  CHECK(status->metadata.attempt == 2);
  CHECK(status->state == SandboxState::kNotReady);
  CHECK(status->created_at == 1700000000123);
  CHECK(status->ip == "10.1.2.3");
  CHECK(status->labels == Labels{{"app", "web"}});
  CHECK(status->annotations == Labels{{"note", "n"}});
  CHECK(rt->PodSandboxStatus("other").status().code() == StatusCode::kNotFound);
  CHECK(rt->PodSandboxStatus("empty").status().code() == StatusCode::kInternal);

  auto list = rt->ListPodSandbox();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);  // "vanished" was removed between the list and its status
  CHECK(list->front().ip == "10.1.2.3");

  // Stop and remove: gone (either way containerd says it) is done; other errors are not.
  for (const char* id : {"sb-1", "gone", "missing"}) {
    CHECK(rt->StopPodSandbox(id).ok());
    CHECK(rt->RemovePodSandbox(id).ok());
  }
  Status broken = rt->StopPodSandbox("broken");
  CHECK(broken.code() == StatusCode::kInternal);
  CHECK(broken.message() == "StopPodSandbox: failed to kill: boom");
  CHECK(rt->RemovePodSandbox("down").code() == StatusCode::kUnavailable);
}

TEST_CASE("cri client: container requests and replies") {
  FakeServer server;
  auto rt = Client(server.socket());

  ContainerConfig c;
  c.metadata = {"app", 4};
  c.image = "kite.local/busybox:1";
  c.command = {"sh", "-c"};
  c.args = {"echo hi"};
  c.working_dir = "/work";
  c.envs = {{"B", "2"}, {"A", "1"}, {"B", "3"}};
  c.mounts = {{"/data", "/host/data", true, MountPropagation::kPrivate},
              {"/shared", "/host/shared", false, MountPropagation::kBidirectional},
              {"/in", "/host/in", false, MountPropagation::kHostToContainer}};
  c.log_path = "app/4.log";
  c.stdin_open = true;
  c.stdin_once = true;
  c.tty = true;
  c.resources = {100000, 25000, 256, 128 << 20, 999};
  c.security.run_as_user = 0;  // set, even though zero
  c.security.supplemental_groups = {5, 6};
  c.security.readonly_rootfs = true;
  c.security.privileged = true;
  c.security.add_capabilities = {"NET_ADMIN", "SYS_TIME"};
  c.security.drop_capabilities = {"ALL"};
  c.labels = {{"io.kubernetes.container.name", "app"}};
  c.annotations = {{"a", "b"}};
  PodSandboxConfig sb = FullSandbox();
  sb.host_network = true;

  auto id = rt->CreateContainer("sb-1", c, sb);
  REQUIRE(id.ok());
  CHECK(*id == "c-1");
  {
    const FakeCri::Recorded rec = server.fake.recorded();
    const cri::CreateContainerRequest& req = rec.create_container;
    CHECK(req.pod_sandbox_id() == "sb-1");
    const cri::ContainerConfig& cc = req.config();
    CHECK(cc.metadata().name() == "app");
    CHECK(cc.metadata().attempt() == 4);
    CHECK(cc.image().image() == "kite.local/busybox:1");
    CHECK(std::vector<std::string>(cc.command().begin(), cc.command().end()) ==
          std::vector<std::string>{"sh", "-c"});
    CHECK(cc.args(0) == "echo hi");
    CHECK(cc.working_dir() == "/work");
    REQUIRE(cc.envs_size() == 3);  // in order, duplicates kept: the runtime lets the last win
    CHECK(cc.envs(0).key() == "B");
    CHECK(cc.envs(2).value() == "3");
    REQUIRE(cc.mounts_size() == 3);
    CHECK(cc.mounts(0).container_path() == "/data");
    CHECK(cc.mounts(0).host_path() == "/host/data");
    CHECK(cc.mounts(0).readonly());
    CHECK(cc.mounts(0).propagation() == cri::PROPAGATION_PRIVATE);
    CHECK(cc.mounts(1).propagation() == cri::PROPAGATION_BIDIRECTIONAL);
    CHECK(cc.mounts(2).propagation() == cri::PROPAGATION_HOST_TO_CONTAINER);
    CHECK(cc.log_path() == "app/4.log");
    CHECK(cc.stdin());
    CHECK(cc.stdin_once());
    CHECK(cc.tty());
    CHECK(cc.labels().at("io.kubernetes.container.name") == "app");
    CHECK(cc.annotations().at("a") == "b");
    const cri::LinuxContainerResources& r = cc.linux().resources();
    CHECK(r.cpu_period() == 100000);
    CHECK(r.cpu_quota() == 25000);
    CHECK(r.cpu_shares() == 256);
    CHECK(r.memory_limit_in_bytes() == 128 << 20);
    CHECK(r.oom_score_adj() == 999);
    const cri::LinuxContainerSecurityContext& s = cc.linux().security_context();
    REQUIRE(s.has_run_as_user());
    CHECK(s.run_as_user().value() == 0);
    CHECK_FALSE(s.has_run_as_group());
    CHECK(s.supplemental_groups_size() == 2);
    CHECK(s.readonly_rootfs());
    CHECK(s.privileged());
    CHECK(s.capabilities().add_capabilities_size() == 2);
    CHECK(s.capabilities().add_capabilities(1) == "SYS_TIME");
    CHECK(s.capabilities().drop_capabilities(0) == "ALL");
    CHECK(s.namespace_options().network() == cri::NODE);
    CHECK(s.namespace_options().pid() == cri::CONTAINER);
    CHECK(s.namespace_options().ipc() == cri::POD);
    // CRI wants the sandbox's config again.
    CHECK(req.sandbox_config().metadata().uid() == "u1");
    CHECK(req.sandbox_config().log_directory() == "/logs/prod_web_u1");
  }
  c.security.run_as_user.reset();
  c.security.run_as_group = 7;
  sb.host_network = false;
  REQUIRE(rt->CreateContainer("sb-1", c, sb).ok());
  {
    const FakeCri::Recorded rec = server.fake.recorded();
    const auto& s = rec.create_container.config().linux().security_context();
    CHECK_FALSE(s.has_run_as_user());
    CHECK(s.run_as_group().value() == 7);
    CHECK(s.namespace_options().network() == cri::POD);
  }
  CHECK(rt->CreateContainer("gone", c, sb).status().code() == StatusCode::kNotFound);
  auto not_ready = rt->CreateContainer("not-ready", c, sb);
  CHECK(not_ready.status().code() == StatusCode::kInvalidArgument);
  CHECK(not_ready.status().message() == "CreateContainer: sandbox is not running");

  auto status = rt->ContainerStatus("c-1");
  REQUIRE(status.ok());
  {
    const FakeCri::Recorded rec = server.fake.recorded();
    CHECK(rec.list_filter.id() == "c-1");
  }
  CHECK(status->id == "c-1");
  CHECK(status->sandbox_id == "sb-1");
  CHECK(status->metadata.name == "app");
  CHECK(status->metadata.attempt == 4);
  CHECK(status->state == ContainerState::kExited);
  CHECK(status->created_at == 1700000000123);
  CHECK(status->started_at == 1700000001123);
  CHECK(status->finished_at == 1700000002123);
  CHECK(status->exit_code == 137);
  CHECK(status->reason == "OOMKilled");
  CHECK(status->message == "killed");
  CHECK(status->image == "kite.local/busybox:1");
  CHECK(status->image_ref == "sha256:abc");
  CHECK(status->log_path == "/logs/app/4.log");
  CHECK(status->labels.at("io.kubernetes.container.name") == "app");
  CHECK(status->annotations.at("a") == "b");
  CHECK(rt->ContainerStatus("c-vanished").status().code() == StatusCode::kNotFound);
  CHECK(rt->ContainerStatus("nothing").status().code() == StatusCode::kNotFound);

  auto listed = rt->ListContainers("sb-1");
  REQUIRE(listed.ok());
  {
    const FakeCri::Recorded rec = server.fake.recorded();
    CHECK(rec.list_filter.pod_sandbox_id() == "sb-1");
  }
  REQUIRE(listed->size() == 1);  // c-vanished is gone by the time of its status
  CHECK(listed->front().exit_code == 137);
  CHECK(listed->front().sandbox_id == "sb-1");

  CHECK(rt->StartContainer("c-1").ok());
  CHECK(rt->StartContainer("missing").code() == StatusCode::kNotFound);  // not idempotent
  CHECK(rt->StartContainer("invalid").code() == StatusCode::kInvalidArgument);
  CHECK(rt->StopContainer("c-1", 30).ok());
  {
    const FakeCri::Recorded rec = server.fake.recorded();
    CHECK(rec.stop_timeout == 30);
  }
  CHECK(rt->StopContainer("c-1", -5).ok());
  {
    const FakeCri::Recorded rec = server.fake.recorded();
    CHECK(rec.stop_timeout == 0);
  }
  for (const char* gone : {"gone", "missing"}) {
    CHECK(rt->StopContainer(gone, 0).ok());
    CHECK(rt->RemoveContainer(gone).ok());
  }
  CHECK(rt->RemoveContainer("broken").code() == StatusCode::kInternal);
}

TEST_CASE("cri client: exec, streams, stats, images, readiness") {
  FakeServer server;
  auto rt = Client(server.socket());

  auto result = rt->ExecSync("c-1", {"cat", "/etc/hostname"}, 7);
  REQUIRE(result.ok());
  CHECK(result->stdout_data == std::string("out\0put", 7));  // bytes, NULs kept
  CHECK(result->stderr_data == "err");
  CHECK(result->exit_code == 3);
  {
    const FakeCri::Recorded rec = server.fake.recorded();
    CHECK(rec.exec_sync.container_id() == "c-1");
    CHECK(rec.exec_sync.cmd_size() == 2);
    CHECK(rec.exec_sync.timeout() == 7);
  }

  StreamRequest stream;
  stream.container_id = "c-1";
  stream.sandbox_id = "sb-1";
  stream.command = {"sh"};
  stream.tty = true;
  stream.stdin_open = true;
  stream.ports = {80, 443};
  CHECK(*rt->Exec(stream) == "http://127.0.0.1:1/exec/t1");
  CHECK(*rt->Attach(stream) == "http://127.0.0.1:1/attach/t2");
  CHECK(*rt->PortForward(stream) == "http://127.0.0.1:1/portforward/t3");
  {
    const FakeCri::Recorded rec = server.fake.recorded();
    CHECK(rec.exec.cmd(0) == "sh");
    CHECK(rec.exec.tty());
    CHECK(rec.exec.stdin());
    CHECK(rec.exec.stdout());
    CHECK_FALSE(rec.exec.stderr());  // CRI: no stderr with a tty
    CHECK(rec.attach.container_id() == "c-1");
    CHECK(rec.attach.stdin());
    CHECK_FALSE(rec.attach.stderr());
    CHECK(rec.port_forward.pod_sandbox_id() == "sb-1");
    CHECK(rec.port_forward.port_size() == 2);
    CHECK(rec.port_forward.port(1) == 443);
  }

  auto stats = rt->ListContainerStats();
  REQUIRE(stats.ok());
  REQUIRE(stats->size() == 1);
  CHECK(stats->front().container_id == "c-1");
  CHECK(stats->front().timestamp_nanos == kNanos);
  CHECK(stats->front().cpu_usage_core_nanos == 123456);
  CHECK(stats->front().memory_working_set_bytes == 4096);

  auto present = rt->ImageRef("present:1");
  REQUIRE(present.ok());
  CHECK(present->value() == "sha256:present");
  auto absent = rt->ImageRef("absent:1");
  REQUIRE(absent.ok());
  CHECK_FALSE(absent->has_value());

  CHECK(*rt->PullImage("x:1") == "sha256:pulled");
  {
    const FakeCri::Recorded rec = server.fake.recorded();
    CHECK(rec.pull.image().image() == "x:1");
    CHECK_FALSE(rec.pull.has_auth());  // anonymous
  }
  PullAuth auth{"user", "secret", "dXNlcjpzZWNyZXQ=", "registry.local:5000"};
  CHECK(*rt->PullImage("x:1", auth) == "sha256:pulled");
  {
    const FakeCri::Recorded rec = server.fake.recorded();
    const cri::AuthConfig& a = rec.pull.auth();
    CHECK(a.username() == "user");
    CHECK(a.password() == "secret");
    CHECK(a.auth() == "dXNlcjpzZWNyZXQ=");
    CHECK(a.server_address() == "registry.local:5000");
  }
  auto denied = rt->PullImage("denied:1", auth);
  CHECK(denied.status().code() == StatusCode::kInternal);
  CHECK(denied.status().message() == "PullImage: 401 Unauthorized");

  auto images = rt->ListImages();
  REQUIRE(images.ok());
  REQUIRE(images->size() == 1);
  CHECK(images->front().id == "sha256:i");
  CHECK(images->front().repo_tags == std::vector<std::string>{"kite.local/busybox:1"});
  CHECK(images->front().size == 1234);
  CHECK(rt->RemoveImage("gone").ok());
  CHECK(rt->RemoveImage("broken").code() == StatusCode::kInternal);

  CHECK(rt->Ready().ok());
  server.fake.set_network_ready(false);
  Status ready = rt->Ready();
  CHECK(ready.code() == StatusCode::kUnavailable);
  CHECK(ready.message() ==
        "Status: NetworkReady is false: NetworkPluginNotReady: cni config uninitialized");
}

TEST_CASE("cri client: one client used from many threads") {
  FakeServer server;
  auto rt = Client(server.socket());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto status = rt->ContainerStatus("c-1");
        if (!status.ok() || status->sandbox_id != "sb-1") ++failures;
        if (rt->Version().runtime_name != "fake-cri") ++failures;
        if (!rt->StopContainer("gone", 0).ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(failures == 0);
}

TEST_CASE("cri client: a call past its deadline is kUnavailable") {
  FakeServer server;
  auto rt = Client(server.socket(), 100ms);
  auto start = std::chrono::steady_clock::now();
  Status slow = rt->StartContainer("slow");
  CHECK(slow.code() == StatusCode::kUnavailable);
  CHECK(slow.message().rfind("StartContainer: ", 0) == 0);
  CHECK(std::chrono::steady_clock::now() - start < 400ms);
}

}  // namespace
}  // namespace kite::runtime
