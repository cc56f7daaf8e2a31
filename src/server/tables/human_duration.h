// The short human-readable durations Kubernetes prints in AGE-like table cells.
//
// HumanDuration follows apimachinery's util/duration.HumanDuration: about two significant
// units ("45s", "3m2s", "15m", "5h20m", "2d3h", "400d", "3y20d"). Pure function, thread-safe.
#pragma once

#include <chrono>
#include <string>

namespace kite::tables {

// Up to 1s in the future still reads "0s" (clock skew between machines); anything further in
// the future reads "<invalid>".
std::string HumanDuration(std::chrono::nanoseconds d);

}  // namespace kite::tables
