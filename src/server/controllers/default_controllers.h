// The controllers `kite server` runs, in one list so the server and the tests start the
// same set.
#pragma once

#include <memory>
#include <vector>

#include "src/server/controllers/controller.h"

namespace kite::controllers {

std::vector<std::unique_ptr<Controller>> DefaultControllers();

}  // namespace kite::controllers
