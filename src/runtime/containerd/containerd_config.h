// The files the agent generates for its containerd: config.toml (its own root, state and
// socket under the agent's folder, the CRI plugin with the project's pause image) and the
// CNI network list (bridge + host-local on the node's pod CIDR, portmap, loopback).
//
// Layout under ContainerdOptions::dir (<data-dir>/agent):
//   containerd/config.toml   containerd/root/   containerd/state/ (runc's root: state/runc)
//   containerd/containerd.log   containerd/containerd.pid   containerd.sock
//   cni/10-kite.conflist   cni/ipam/ (host-local's leases)
//   certs.d/<host[:port]>/hosts.toml   registry hosts, written by the user (containerd's
//     docs/hosts.md format: server, [host."<url>"] capabilities, ca, skip_verify, ...);
//     the CRI plugin reads them at every pull, so files added later take effect at once.
// Pure functions except the Write* ones; all thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "src/base/status.h"
#include "src/runtime/containerd/host_facts.h"

namespace kite::containerd {

// The image the CRI plugin runs as each pod's sandbox; built by packaging/images and
// embedded in the kite binary (pause_image.h).
inline constexpr std::string_view kPauseImageRef = "kite.local/pause:1";
// The snapshotter of the CRI plugin; images are unpacked into it on import.
inline constexpr std::string_view kSnapshotter = "overlayfs";

struct ContainerdOptions {
  std::string dir;  // <data-dir>/agent; absolute
  std::string containerd_binary = "containerd";  // looked up in PATH when not a path
  std::string ctr_binary = "ctr";                 // for image import and listing
  std::string cni_bin_dir = "/usr/lib/cni";
  // The node's pod CIDR ("10.42.0.0/24"). Empty: no network list is written at start (an
  // existing one is left alone); ContainerdProcess::SetPodCidr writes it later.
  std::string pod_cidr;
  std::string bridge_name = "kite0";  // at most 15 characters (IFNAMSIZ)
  std::string pause_image = std::string(kPauseImageRef);
  std::chrono::seconds start_timeout{30};
  // Where progress and failures are reported, one line each; stderr ("kite: containerd:
  // ...") when empty. Called from the caller's and the supervisor's threads.
  std::function<void(const std::string&)> log;
};

// The paths derived from ContainerdOptions::dir.
struct ContainerdPaths {
  explicit ContainerdPaths(const std::string& dir);
  std::string containerd_dir;  // <dir>/containerd
  std::string config;          // <dir>/containerd/config.toml
  std::string root;            // <dir>/containerd/root
  std::string state;           // <dir>/containerd/state
  std::string runc_root;       // <dir>/containerd/state/runc
  std::string log;             // <dir>/containerd/containerd.log
  std::string pid_file;        // <dir>/containerd/containerd.pid
  std::string socket;          // <dir>/containerd.sock
  std::string cni_conf_dir;    // <dir>/cni
  std::string conflist;        // <dir>/cni/10-kite.conflist
  std::string ipam_dir;        // <dir>/cni/ipam
  std::string registry_hosts;  // <dir>/certs.d (the CRI plugin's registry config_path)
};

// kInvalidArgument, saying which, when dir is not absolute, the socket path is too long for
// a unix socket, the bridge name is empty or longer than 15 characters, the pod CIDR (when
// set) is not an IPv4 or IPv6 prefix, or a binary or image name is empty.
Status ValidateOptions(const ContainerdOptions& options);
// kInvalidArgument unless `cidr` is "address/prefix" with a valid IPv4 or IPv6 address.
Status ValidateCidr(std::string_view cidr);

// containerd's config.toml (version 2). restrict_oom_score_adj follows the host's
// CAP_SYS_RESOURCE; runc keeps its state under this agent's state folder so two agents on
// one host never share it; cgroups are managed by cgroupfs (no systemd driver); registries
// are configured by the hosts.toml files under ContainerdPaths::registry_hosts (none for a
// host: HTTPS, or plain HTTP for localhost and loopback addresses, containerd's defaults).
std::string ContainerdConfigToml(const ContainerdOptions& options, const HostFacts& host);

// The CNI network list "kite" (cniVersion 0.4.0) for `pod_cidr`, as JSON.
std::string CniConflistJson(const ContainerdOptions& options, std::string_view pod_cidr);

// Writes `content` to `path` through a temporary file and rename, so a reader (containerd
// watches the CNI folder) never sees half a file. kIoError on failure.
Status WriteFileAtomically(const std::string& path, std::string_view content);

}  // namespace kite::containerd
