// `kite server`: its flags and the settings they resolve to.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "src/base/status.h"
#include "src/cli/flag_spec.h"
#include "src/cli/host_facts.h"

namespace kite::cli {

// --datastore-history-revisions: the store keeps this many revisions of history for watches
// and past reads (store::StoreOptions::history_window_revisions). Below the minimum, a
// watch that reconnects after a short pause would too often find its revision compacted.
inline constexpr int64_t kDefaultDatastoreHistoryRevisions = 10'000;
inline constexpr int64_t kMinDatastoreHistoryRevisions = 100;
inline constexpr int64_t kMaxDatastoreHistoryRevisions = 1'000'000'000;

// --event-ttl (kube-apiserver's flag and default): how long an Event is kept after its last
// write. "0" keeps Events until they are deleted.
inline constexpr char kDefaultEventTtl[] = "1h0m0s";

// Everything `kite server` needs to know to run, fully resolved: every default applied,
// every path absolute. Later components take it (or the fields they need) as is.
struct ServerConfig {
  std::string data_dir;
  int https_listen_port = 6443;
  std::string bind_address;
  std::string write_kubeconfig;  // where the admin kubeconfig goes
  uint32_t write_kubeconfig_mode = 0600;
  bool disable_agent = false;
  // The join token as given by --token (or the config file); empty when not given, in
  // which case the one in TokenPath() is reused or a new one generated (token_file.h).
  std::string token;
  std::string node_name;
  int kubelet_port = 10250;
  std::string node_pod_cidr;  // "" = one the node IPAM controller assigns
  std::string datastore_endpoint;
  // Revisions of history the store keeps; older ones are compacted, and watches or
  // exact-revision reads from before them get 410 Expired.
  int64_t datastore_history_revisions = kDefaultDatastoreHistoryRevisions;
  // Pod addresses: the node IPAM controller cuts node CIDRs of node_cidr_mask_size bits
  // out of cluster_cidr (its IPv4 entry when it is a dual-stack pair).
  std::string cluster_cidr;
  int node_cidr_mask_size = 24;
  std::string service_cidr;
  int metric_resolution_seconds = 15;  // --metric-resolution: the metrics scraper's period
  // --event-ttl, to the millisecond (finer parts are dropped); zero = Events never expire.
  std::chrono::milliseconds event_ttl{std::chrono::hours(1)};
  // The config file that was read; empty if none was.
  std::string config_file;

  std::string ServerDir() const;  // <data-dir>/server
  std::string TokenPath() const;  // <data-dir>/server/token
};

// The flag table, with defaults for this host (they show in `kite server --help`).
CommandSpec ServerCommandSpec(const HostFacts& facts);

// Resolves `kite server`'s settings from `args` (the words after "server"), the config
// file, and the defaults for `facts`.
//
// The config file is --config FILE if given (it must exist), else /etc/kite/config.yaml if
// it exists; `read_file` reads it. Errors are kInvalidArgument (or kIoError when the
// config file exists but cannot be read) with a message for the user; all mean
// ExitCode::kUsage. Does not handle --help: check WantsHelp(args) first.
Result<ServerConfig> ParseServerConfig(const std::vector<std::string>& args,
                                       const HostFacts& facts, const FileReader& read_file);

}  // namespace kite::cli
