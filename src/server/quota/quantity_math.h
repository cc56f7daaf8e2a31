// Addition and subtraction of resource quantities, as apimachinery's Quantity.Add and
// Quantity.Sub do: the exact sum, in the format of the left operand, or of the right one
// when the left is zero ("500m" + "500m" = "1", "1Gi" + "512Mi" = "1536Mi", "0" + "1Gi" =
// "1Gi").
//
// admission::Quantity (src/server/admission/quantity.h) has no arithmetic and keeps its
// digits private, so this works from the canonical text: it reads the exact value back out
// of Quantity::String() and builds the result through Quantity::Parse with a suffix that
// gives the wanted format. Results beyond 36 significant digits are rounded up as Parse
// rounds them; quota values never come near that.
//
// Pure functions; thread-safe.
#pragma once

#include "src/server/admission/quantity.h"

namespace kite::quota {

admission::Quantity AddQuantities(const admission::Quantity& a, const admission::Quantity& b);
admission::Quantity SubtractQuantities(const admission::Quantity& a, const admission::Quantity& b);

}  // namespace kite::quota
