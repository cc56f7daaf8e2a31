#include "src/runtime/cri/cri_runtime.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <utility>

#include "src/net/grpc/grpc_channel.h"
#include "src/runtime/cri/api.pb.h"

namespace kite::runtime {

namespace cri = ::runtime::v1;

namespace {

using StringMap = google::protobuf::Map<std::string, std::string>;
using Deadline = std::optional<std::chrono::milliseconds>;  // nullopt = none

// The kernel's sun_path is 108 bytes including the terminating NUL.
constexpr size_t kMaxSocketPath = 107;
// ExecSync output is capped at 16 MiB per stream by containerd; leave room for both.
constexpr size_t kMaxReplyBytes = 64 << 20;
// A pull over a slow link takes long; it still must not hang forever.
constexpr std::chrono::milliseconds kMinPullTimeout = std::chrono::minutes(15);

int64_t NanosToMillis(int64_t nanos) { return nanos / 1000000; }

Labels ToLabels(const StringMap& map) { return Labels(map.begin(), map.end()); }

void FillMap(const Labels& labels, StringMap* out) {
  for (const auto& [key, value] : labels) (*out)[key] = value;
}

bool MentionsNotFound(const std::string& message) {
  std::string lower = message;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower.find("not found") != std::string::npos;
}

Status FromGrpc(const char* call, const net::GrpcReply& reply) {
  if (reply.ok()) return Status::Ok();
  std::string message = std::string(call) + ": " + reply.message;
  switch (reply.code) {
    case net::GrpcCode::kNotFound:
      return NotFoundError(std::move(message));
    case net::GrpcCode::kUnknown:
      // containerd 1.6 wraps some lookups of a missing id as UNKNOWN "...: not found".
      if (MentionsNotFound(reply.message)) return NotFoundError(std::move(message));
      return InternalError(std::move(message));
    case net::GrpcCode::kUnavailable:
    case net::GrpcCode::kDeadlineExceeded:
      return UnavailableError(std::move(message));
    case net::GrpcCode::kInvalidArgument:
    case net::GrpcCode::kFailedPrecondition:
      return InvalidArgumentError(std::move(message));
    case net::GrpcCode::kResourceExhausted:
      return ResourceExhaustedError(std::move(message));
    default:
      return InternalError(std::move(message));
  }
}

// Stop and remove are idempotent in the Runtime contract: a missing id is done.
Status GoneIsOk(Status status) {
  if (status.code() == StatusCode::kNotFound) return Status::Ok();
  return status;
}

Result<cri::Protocol> ToProtocol(const std::string& protocol) {
  if (protocol == "TCP" || protocol.empty()) return cri::TCP;
  if (protocol == "UDP") return cri::UDP;
  if (protocol == "SCTP") return cri::SCTP;
  return InvalidArgumentError("port mapping protocol \"" + protocol +
                              "\" is not one of TCP, UDP, SCTP");
}

cri::MountPropagation ToPropagation(MountPropagation propagation) {
  switch (propagation) {
    case MountPropagation::kHostToContainer:
      return cri::PROPAGATION_HOST_TO_CONTAINER;
    case MountPropagation::kBidirectional:
      return cri::PROPAGATION_BIDIRECTIONAL;
    case MountPropagation::kPrivate:
      break;
  }
  return cri::PROPAGATION_PRIVATE;
}

ContainerState FromContainerState(cri::ContainerState state) {
  switch (state) {
    case cri::CONTAINER_CREATED:
      return ContainerState::kCreated;
    case cri::CONTAINER_RUNNING:
      return ContainerState::kRunning;
    case cri::CONTAINER_EXITED:
      return ContainerState::kExited;
    default:
      return ContainerState::kUnknown;
  }
}

SandboxState FromSandboxState(cri::PodSandboxState state) {
  return state == cri::SANDBOX_READY ? SandboxState::kReady : SandboxState::kNotReady;
}

// The namespaces of a pod: its own network (or the node's), one PID namespace per
// container (the Kubernetes default; CRI's default would share it), a shared IPC.
void FillNamespaces(bool host_network, cri::NamespaceOption* out) {
  out->set_network(host_network ? cri::NODE : cri::POD);
  out->set_pid(cri::CONTAINER);
  out->set_ipc(cri::POD);
}

Status FillSandboxConfig(const PodSandboxConfig& config, cri::PodSandboxConfig* out) {
  cri::PodSandboxMetadata* md = out->mutable_metadata();
  md->set_name(config.metadata.name);
  md->set_namespace_(config.metadata.namespace_);
  md->set_uid(config.metadata.uid);
  md->set_attempt(config.metadata.attempt);
  out->set_hostname(config.hostname);
  out->set_log_directory(config.log_directory);
  cri::DNSConfig* dns = out->mutable_dns_config();
  for (const std::string& s : config.dns.servers) dns->add_servers(s);
  for (const std::string& s : config.dns.searches) dns->add_searches(s);
  for (const std::string& s : config.dns.options) dns->add_options(s);
  for (const PortMapping& port : config.port_mappings) {
    Result<cri::Protocol> protocol = ToProtocol(port.protocol);
    if (!protocol.ok()) return protocol.status();
    cri::PortMapping* mapping = out->add_port_mappings();
    mapping->set_protocol(*protocol);
    mapping->set_container_port(port.container_port);
    mapping->set_host_port(port.host_port);
    mapping->set_host_ip(port.host_ip);
  }
  FillMap(config.labels, out->mutable_labels());
  FillMap(config.annotations, out->mutable_annotations());
  cri::LinuxPodSandboxConfig* linux = out->mutable_linux();
  linux->set_cgroup_parent(config.cgroup_parent);
  FillNamespaces(config.host_network,
                 linux->mutable_security_context()->mutable_namespace_options());
  return Status::Ok();
}

void FillContainerConfig(const ContainerConfig& config, bool host_network,
                         cri::ContainerConfig* out) {
  out->mutable_metadata()->set_name(config.metadata.name);
  out->mutable_metadata()->set_attempt(config.metadata.attempt);
  out->mutable_image()->set_image(config.image);
  for (const std::string& s : config.command) out->add_command(s);
  for (const std::string& s : config.args) out->add_args(s);
  out->set_working_dir(config.working_dir);
  for (const auto& [key, value] : config.envs) {
    cri::KeyValue* env = out->add_envs();
    env->set_key(key);
    env->set_value(value);
  }
  for (const Mount& mount : config.mounts) {
    cri::Mount* m = out->add_mounts();
    m->set_container_path(mount.container_path);
    m->set_host_path(mount.host_path);
    m->set_readonly(mount.readonly);
    m->set_propagation(ToPropagation(mount.propagation));
  }
  out->set_log_path(config.log_path);
  out->set_stdin(config.stdin_open);
  out->set_stdin_once(config.stdin_once);
  out->set_tty(config.tty);
  FillMap(config.labels, out->mutable_labels());
  FillMap(config.annotations, out->mutable_annotations());

  cri::LinuxContainerResources* res = out->mutable_linux()->mutable_resources();
  res->set_cpu_period(config.resources.cpu_period);
  res->set_cpu_quota(config.resources.cpu_quota);
  res->set_cpu_shares(config.resources.cpu_shares);
  res->set_memory_limit_in_bytes(config.resources.memory_limit_in_bytes);
  res->set_oom_score_adj(config.resources.oom_score_adj);

  const SecurityContext& sec = config.security;
  cri::LinuxContainerSecurityContext* ctx = out->mutable_linux()->mutable_security_context();
  if (sec.run_as_user) ctx->mutable_run_as_user()->set_value(*sec.run_as_user);
  if (sec.run_as_group) ctx->mutable_run_as_group()->set_value(*sec.run_as_group);
  for (int64_t group : sec.supplemental_groups) ctx->add_supplemental_groups(group);
  ctx->set_readonly_rootfs(sec.readonly_rootfs);
  ctx->set_privileged(sec.privileged);
  for (const std::string& cap : sec.add_capabilities) {
    ctx->mutable_capabilities()->add_add_capabilities(cap);
  }
  for (const std::string& cap : sec.drop_capabilities) {
    ctx->mutable_capabilities()->add_drop_capabilities(cap);
  }
  FillNamespaces(host_network, ctx->mutable_namespace_options());
}

PodSandbox FromSandboxStatus(const cri::PodSandboxStatus& status) {
  PodSandbox out;
  out.id = status.id();
  out.metadata = {status.metadata().name(), status.metadata().namespace_(), status.metadata().uid(),
                  status.metadata().attempt()};
  out.state = FromSandboxState(status.state());
  out.created_at = NanosToMillis(status.created_at());
  out.ip = status.network().ip();
  out.labels = ToLabels(status.labels());
  out.annotations = ToLabels(status.annotations());
  return out;
}

// A container's status (CRI ContainerStatus has no sandbox id; the caller's listing does).
Container FromContainerStatus(const cri::ContainerStatus& status, std::string sandbox_id) {
  Container out;
  out.id = status.id();
  out.sandbox_id = std::move(sandbox_id);
  out.metadata = {status.metadata().name(), status.metadata().attempt()};
  out.state = FromContainerState(status.state());
  out.created_at = NanosToMillis(status.created_at());
  out.started_at = NanosToMillis(status.started_at());
  out.finished_at = NanosToMillis(status.finished_at());
  out.exit_code = status.exit_code();
  out.reason = status.reason();
  out.message = status.message();
  out.image = status.image().image();
  out.image_ref = status.image_ref();
  out.log_path = status.log_path();
  out.labels = ToLabels(status.labels());
  out.annotations = ToLabels(status.annotations());
  return out;
}

ContainerStats FromStats(const cri::ContainerStats& stats) {
  ContainerStats out;
  out.container_id = stats.attributes().id();
  out.timestamp_nanos =
      stats.cpu().timestamp() != 0 ? stats.cpu().timestamp() : stats.memory().timestamp();
  out.cpu_usage_core_nanos = stats.cpu().usage_core_nano_seconds().value();
  out.memory_working_set_bytes = stats.memory().working_set_bytes().value();
  return out;
}

// The two CRI services; method paths are "/runtime.v1.<Service>/<Method>".
enum class CriService { kRuntime, kImage };

}  // namespace

struct CriRuntime::Impl {
  std::unique_ptr<net::GrpcChannel> channel;
  std::chrono::milliseconds call_timeout;

  // Runs one unary call with `deadline` (none when nullopt) and maps its status; the
  // method's name also prefixes error messages.
  Status Invoke(CriService service, const char* method,
                const google::protobuf::MessageLite& request,
                google::protobuf::MessageLite* response, Deadline deadline) const {
    std::string path = service == CriService::kRuntime ? "/runtime.v1.RuntimeService/"
                                                    : "/runtime.v1.ImageService/";
    path += method;
    std::string bytes;
    if (!request.SerializeToString(&bytes)) {
      return InternalError(std::string(method) + ": the request cannot be serialized");
    }
    net::GrpcReply reply =
        channel->Call(path, bytes, deadline ? *deadline : net::GrpcChannel::kNoDeadline);
    KITE_RETURN_IF_ERROR(FromGrpc(method, reply));
    if (!response->ParseFromString(reply.response)) {
      return InternalError(std::string(method) + ": the runtime's reply is not a valid " +
                           response->GetTypeName());
    }
    return Status::Ok();
  }
  Status Invoke(CriService service, const char* method,
                const google::protobuf::MessageLite& request,
                google::protobuf::MessageLite* response) const {
    return Invoke(service, method, request, response, call_timeout);
  }

  Result<std::vector<cri::Container>> List(const cri::ContainerFilter& filter) const {
    cri::ListContainersRequest request;
    *request.mutable_filter() = filter;
    cri::ListContainersResponse response;
    KITE_RETURN_IF_ERROR(Invoke(CriService::kRuntime, "ListContainers", request, &response));
    return std::vector<cri::Container>(response.containers().begin(), response.containers().end());
  }

  // The full status of a listed container (the listing gives its sandbox id).
  Result<Container> FullStatus(const cri::Container& listed) const {
    cri::ContainerStatusRequest request;
    request.set_container_id(listed.id());
    cri::ContainerStatusResponse response;
    KITE_RETURN_IF_ERROR(Invoke(CriService::kRuntime, "ContainerStatus", request, &response));
    if (!response.has_status()) {
      return InternalError("ContainerStatus: reply for " + listed.id() + " has no status");
    }
    return FromContainerStatus(response.status(), listed.pod_sandbox_id());
  }

  Result<PodSandbox> SandboxStatus(const std::string& sandbox_id) const {
    cri::PodSandboxStatusRequest request;
    request.set_pod_sandbox_id(sandbox_id);
    cri::PodSandboxStatusResponse response;
    KITE_RETURN_IF_ERROR(Invoke(CriService::kRuntime, "PodSandboxStatus", request, &response));
    if (!response.has_status()) {
      return InternalError("PodSandboxStatus: reply for " + sandbox_id + " has no status");
    }
    return FromSandboxStatus(response.status());
  }
};

CriRuntime::CriRuntime(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CriRuntime::~CriRuntime() = default;

Result<std::unique_ptr<CriRuntime>> CriRuntime::Connect(std::string socket_path,
                                                        std::chrono::milliseconds call_timeout) {
  if (socket_path.empty()) return InvalidArgumentError("CRI socket path is empty");
  if (socket_path.size() > kMaxSocketPath) {
    return InvalidArgumentError("CRI socket path " + socket_path + " is longer than " +
                                std::to_string(kMaxSocketPath) + " bytes");
  }
  if (call_timeout <= std::chrono::milliseconds::zero()) {
    return InvalidArgumentError("CRI call timeout must be positive");
  }
  net::GrpcChannelOptions options;
  options.max_receive_message_bytes = kMaxReplyBytes;
  // Connecting to a unix socket either works or fails at once; this only bounds a runtime
  // that accepts nothing (its listen backlog full).
  options.connect_timeout = std::chrono::seconds(10);
  // "unix:///abs/path" keeps a path that starts with "//" a path.
  std::string target = (socket_path[0] == '/' ? "unix://" : "unix:") + socket_path;
  Result<std::unique_ptr<net::GrpcChannel>> channel = net::GrpcChannel::Create(target, options);
  if (!channel.ok()) return channel.status();
  auto impl = std::make_unique<Impl>();
  impl->channel = std::move(channel).value();
  impl->call_timeout = call_timeout;
  return std::unique_ptr<CriRuntime>(new CriRuntime(std::move(impl)));
}

// ---- version and readiness ----

Result<VersionInfo> CriRuntime::QueryVersion() const {
  cri::VersionRequest request;
  request.set_version("v1");
  cri::VersionResponse response;
  KITE_RETURN_IF_ERROR(impl_->Invoke(CriService::kRuntime, "Version", request, &response));
  VersionInfo info{response.runtime_name(), response.runtime_version()};
  MutexLock lock(version_mu_);
  version_ = info;
  return info;
}

VersionInfo CriRuntime::Version() const {
  {
    MutexLock lock(version_mu_);
    if (version_) return *version_;
  }
  Result<VersionInfo> info = QueryVersion();
  if (info.ok()) return *info;
  return {"containerd", ""};
}

Status CriRuntime::Ready() const {
  cri::StatusRequest request;
  cri::StatusResponse response;
  KITE_RETURN_IF_ERROR(impl_->Invoke(CriService::kRuntime, "Status", request, &response));
  for (const char* type : {"RuntimeReady", "NetworkReady"}) {
    const cri::RuntimeCondition* found = nullptr;
    for (const cri::RuntimeCondition& condition : response.status().conditions()) {
      if (condition.type() == type) found = &condition;
    }
    if (found == nullptr) {
      return UnavailableError(std::string("Status: runtime reports no ") + type + " condition");
    }
    if (!found->status()) {
      return UnavailableError(std::string("Status: ") + type + " is false: " + found->reason() +
                              (found->message().empty() ? "" : ": " + found->message()));
    }
  }
  return Status::Ok();
}

// ---- images ----

Result<std::string> CriRuntime::PullImage(const std::string& image) {
  return PullImage(image, PullAuth{});
}

Result<std::string> CriRuntime::PullImage(const std::string& image, const PullAuth& auth) {
  cri::PullImageRequest request;
  request.mutable_image()->set_image(image);
  if (!auth.username.empty() || !auth.password.empty() || !auth.auth.empty()) {
    cri::AuthConfig* config = request.mutable_auth();
    config->set_username(auth.username);
    config->set_password(auth.password);
    config->set_auth(auth.auth);
    config->set_server_address(auth.server_address);
  }
  cri::PullImageResponse response;
  KITE_RETURN_IF_ERROR(impl_->Invoke(CriService::kImage, "PullImage", request, &response,
                                     std::max(impl_->call_timeout, kMinPullTimeout)));
  return response.image_ref();
}

Result<std::optional<std::string>> CriRuntime::ImageRef(const std::string& image) {
  cri::ImageStatusRequest request;
  request.mutable_image()->set_image(image);
  cri::ImageStatusResponse response;
  KITE_RETURN_IF_ERROR(impl_->Invoke(CriService::kImage, "ImageStatus", request, &response));
  if (!response.has_image() || response.image().id().empty()) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>(response.image().id());
}

Result<std::vector<ImageInfo>> CriRuntime::ListImages() {
  cri::ListImagesRequest request;
  cri::ListImagesResponse response;
  KITE_RETURN_IF_ERROR(impl_->Invoke(CriService::kImage, "ListImages", request, &response));
  std::vector<ImageInfo> out;
  for (const cri::Image& image : response.images()) {
    out.push_back({image.id(),
                   {image.repo_tags().begin(), image.repo_tags().end()},
                   {image.repo_digests().begin(), image.repo_digests().end()},
                   image.size()});
  }
  return out;
}

Status CriRuntime::RemoveImage(const std::string& image) {
  cri::RemoveImageRequest request;
  request.mutable_image()->set_image(image);
  cri::RemoveImageResponse response;
  return GoneIsOk(impl_->Invoke(CriService::kImage, "RemoveImage", request, &response));
}

// ---- sandboxes ----

Result<std::string> CriRuntime::RunPodSandbox(const PodSandboxConfig& config) {
  cri::RunPodSandboxRequest request;
  Status filled = FillSandboxConfig(config, request.mutable_config());
  if (!filled.ok()) return InvalidArgumentError("RunPodSandbox: " + filled.message());
  cri::RunPodSandboxResponse response;
  KITE_RETURN_IF_ERROR(impl_->Invoke(CriService::kRuntime, "RunPodSandbox", request, &response));
  if (response.pod_sandbox_id().empty()) {
    return InternalError("RunPodSandbox: reply has no sandbox id");
  }
  return response.pod_sandbox_id();
}

Status CriRuntime::StopPodSandbox(const std::string& sandbox_id) {
  cri::StopPodSandboxRequest request;
  request.set_pod_sandbox_id(sandbox_id);
  cri::StopPodSandboxResponse response;
  return GoneIsOk(impl_->Invoke(CriService::kRuntime, "StopPodSandbox", request, &response));
}

Status CriRuntime::RemovePodSandbox(const std::string& sandbox_id) {
  cri::RemovePodSandboxRequest request;
  request.set_pod_sandbox_id(sandbox_id);
  cri::RemovePodSandboxResponse response;
  return GoneIsOk(impl_->Invoke(CriService::kRuntime, "RemovePodSandbox", request, &response));
}

Result<PodSandbox> CriRuntime::PodSandboxStatus(const std::string& sandbox_id) {
  return impl_->SandboxStatus(sandbox_id);
}

Result<std::vector<PodSandbox>> CriRuntime::ListPodSandbox() {
  cri::ListPodSandboxRequest request;
  cri::ListPodSandboxResponse response;
  KITE_RETURN_IF_ERROR(impl_->Invoke(CriService::kRuntime, "ListPodSandbox", request, &response));
  // The listing has no IP; the Runtime's PodSandbox does, so each one's status is read.
  std::vector<PodSandbox> out;
  for (const cri::PodSandbox& item : response.items()) {
    Result<PodSandbox> status = impl_->SandboxStatus(item.id());
    if (status.status().code() == StatusCode::kNotFound) continue;  // removed meanwhile
    if (!status.ok()) return status.status();
    out.push_back(std::move(status).value());
  }
  return out;
}

// ---- containers ----

Result<std::string> CriRuntime::CreateContainer(const std::string& sandbox_id,
                                                const ContainerConfig& config,
                                                const PodSandboxConfig& sandbox_config) {
  cri::CreateContainerRequest request;
  request.set_pod_sandbox_id(sandbox_id);
  FillContainerConfig(config, sandbox_config.host_network, request.mutable_config());
  Status filled = FillSandboxConfig(sandbox_config, request.mutable_sandbox_config());
  if (!filled.ok()) return InvalidArgumentError("CreateContainer: " + filled.message());
  cri::CreateContainerResponse response;
  KITE_RETURN_IF_ERROR(impl_->Invoke(CriService::kRuntime, "CreateContainer", request, &response));
  if (response.container_id().empty()) {
    return InternalError("CreateContainer: reply has no container id");
  }
  return response.container_id();
}

Status CriRuntime::StartContainer(const std::string& container_id) {
  cri::StartContainerRequest request;
  request.set_container_id(container_id);
  cri::StartContainerResponse response;
  return impl_->Invoke(CriService::kRuntime, "StartContainer", request, &response);
}

Status CriRuntime::StopContainer(const std::string& container_id, int64_t timeout_seconds) {
  cri::StopContainerRequest request;
  request.set_container_id(container_id);
  request.set_timeout(std::max<int64_t>(timeout_seconds, 0));
  cri::StopContainerResponse response;
  return GoneIsOk(impl_->Invoke(CriService::kRuntime, "StopContainer", request, &response,
                                  impl_->call_timeout + std::chrono::seconds(request.timeout())));
}

Status CriRuntime::RemoveContainer(const std::string& container_id) {
  cri::RemoveContainerRequest request;
  request.set_container_id(container_id);
  cri::RemoveContainerResponse response;
  return GoneIsOk(impl_->Invoke(CriService::kRuntime, "RemoveContainer", request, &response));
}

Result<Container> CriRuntime::ContainerStatus(const std::string& container_id) {
  // Listed first for the sandbox id, which CRI's ContainerStatus lacks.
  cri::ContainerFilter filter;
  filter.set_id(container_id);
  Result<std::vector<cri::Container>> listed = impl_->List(filter);
  if (!listed.ok()) return listed.status();
  for (const cri::Container& item : *listed) {
    if (item.id() == container_id) return impl_->FullStatus(item);
  }
  return NotFoundError("ContainerStatus: container " + container_id + " not found");
}

Result<std::vector<Container>> CriRuntime::ListContainers(const std::string& sandbox_id) {
  cri::ContainerFilter filter;
  filter.set_pod_sandbox_id(sandbox_id);
  Result<std::vector<cri::Container>> listed = impl_->List(filter);
  if (!listed.ok()) return listed.status();
  // The listing lacks exit codes, times and reasons; each container's status has them.
  std::vector<Container> out;
  for (const cri::Container& item : *listed) {
    Result<Container> status = impl_->FullStatus(item);
    if (status.status().code() == StatusCode::kNotFound) continue;  // removed meanwhile
    if (!status.ok()) return status.status();
    out.push_back(std::move(status).value());
  }
  return out;
}

// ---- commands and streams ----

Result<ExecSyncResult> CriRuntime::ExecSync(const std::string& container_id,
                                            const std::vector<std::string>& command,
                                            int64_t timeout_seconds) {
  cri::ExecSyncRequest request;
  request.set_container_id(container_id);
  for (const std::string& arg : command) request.add_cmd(arg);
  request.set_timeout(std::max<int64_t>(timeout_seconds, 0));
  Deadline deadline;  // none when the command has none
  if (request.timeout() > 0)
    deadline = impl_->call_timeout + std::chrono::seconds(request.timeout());
  cri::ExecSyncResponse response;
  KITE_RETURN_IF_ERROR(
      impl_->Invoke(CriService::kRuntime, "ExecSync", request, &response, deadline));
  return ExecSyncResult{response.stdout(), response.stderr(), response.exit_code()};
}

Result<std::string> CriRuntime::Exec(const StreamRequest& stream) {
  cri::ExecRequest request;
  request.set_container_id(stream.container_id);
  for (const std::string& arg : stream.command) request.add_cmd(arg);
  request.set_tty(stream.tty);
  request.set_stdin(stream.stdin_open);
  request.set_stdout(stream.stdout_open);
  request.set_stderr(stream.stderr_open && !stream.tty);
  cri::ExecResponse response;
  KITE_RETURN_IF_ERROR(impl_->Invoke(CriService::kRuntime, "Exec", request, &response));
  return response.url();
}

Result<std::string> CriRuntime::Attach(const StreamRequest& stream) {
  cri::AttachRequest request;
  request.set_container_id(stream.container_id);
  request.set_tty(stream.tty);
  request.set_stdin(stream.stdin_open);
  request.set_stdout(stream.stdout_open);
  request.set_stderr(stream.stderr_open && !stream.tty);
  cri::AttachResponse response;
  KITE_RETURN_IF_ERROR(impl_->Invoke(CriService::kRuntime, "Attach", request, &response));
  return response.url();
}

Result<std::string> CriRuntime::PortForward(const StreamRequest& stream) {
  cri::PortForwardRequest request;
  request.set_pod_sandbox_id(stream.sandbox_id);
  for (int32_t port : stream.ports) request.add_port(port);
  cri::PortForwardResponse response;
  KITE_RETURN_IF_ERROR(impl_->Invoke(CriService::kRuntime, "PortForward", request, &response));
  return response.url();
}

// ---- stats ----

Result<std::vector<ContainerStats>> CriRuntime::ListContainerStats() {
  cri::ListContainerStatsRequest request;
  cri::ListContainerStatsResponse response;
  KITE_RETURN_IF_ERROR(
      impl_->Invoke(CriService::kRuntime, "ListContainerStats", request, &response));
  std::vector<ContainerStats> out;
  for (const cri::ContainerStats& stats : response.stats()) out.push_back(FromStats(stats));
  return out;
}

Result<ContainerStats> CriRuntime::GetContainerStats(const std::string& container_id) {
  cri::ContainerStatsRequest request;
  request.set_container_id(container_id);
  cri::ContainerStatsResponse response;
  KITE_RETURN_IF_ERROR(impl_->Invoke(CriService::kRuntime, "ContainerStats", request, &response));
  if (!response.has_stats()) {
    return InternalError("ContainerStats: reply for " + container_id + " has no stats");
  }
  return FromStats(response.stats());
}

}  // namespace kite::runtime
