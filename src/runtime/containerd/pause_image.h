// The sandbox image kite.local/pause:1 (packaging/images: a static program that waits for
// signals and reaps orphans), embedded in the kite binary so a machine with no registry can
// run pods. ContainerdProcess imports it at start when containerd does not have it.
#pragma once

#include <string_view>

namespace kite::containerd {

// The image as a docker-archive tarball (what `ctr images import` reads). Static storage;
// never empty in a correct build. Thread-safe.
std::string_view PauseImageTarball();

// The SHA-256 of that tarball in hex, recorded when the binary was built.
std::string_view PauseImageTarballSha256();

}  // namespace kite::containerd
