// The controllers `kite server` runs, in one list so the server and the tests start the
// same set.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "src/server/client/event_broadcaster.h"
#include "src/server/controllers/controller.h"

namespace kite::controllers {

struct DefaultControllersOptions {
  // The cluster CA certificate (PEM) published as the kube-root-ca.crt ConfigMap in every
  // namespace; empty: no publisher.
  std::string root_ca_pem;
  // Where the controllers' Events go, each under its upstream component name
  // ("replicaset-controller", "deployment-controller", "node-controller", ...); null = no
  // Events. Must outlive the controllers.
  client::EventBroadcaster* events = nullptr;
  // Node IPAM (node_ipam_controller.h): the range node pod CIDRs come from (IPv4, or a
  // dual-stack list whose IPv4 entry is used) and each node's prefix length; empty
  // cluster_cidr = no node IPAM controller (nodes bring their own CIDRs).
  std::string cluster_cidr;
  int node_cidr_mask_size = 24;
  // The API server's --service-cidr: node IPAM never hands out a block overlapping it.
  std::string service_cidr;
};

// A cluster_cidr the node IPAM controller cannot use is reported on stderr and that
// controller left out (`kite server` validates the flags before, see
// NodeIpamController::Validate).
std::vector<std::unique_ptr<Controller>> DefaultControllers(const DefaultControllersOptions& options = {});

}  // namespace kite::controllers
