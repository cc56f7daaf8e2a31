// The controllers `kite server` runs, in one list so the server and the tests start the
// same set.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "src/server/controllers/controller.h"

namespace kite::controllers {

struct DefaultControllersOptions {
  // The cluster CA certificate (PEM) published as the kube-root-ca.crt ConfigMap in every
  // namespace; empty: no publisher.
  std::string root_ca_pem;
};

std::vector<std::unique_ptr<Controller>> DefaultControllers(const DefaultControllersOptions& options = {});

}  // namespace kite::controllers
