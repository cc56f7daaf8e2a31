#include "src/runtime/containerd/pause_image.h"

// Defined by the generated pause_image_data.cc (embed_file.cmake): the bytes of
// ${CMAKE_BINARY_DIR}/images/pause.tar between begin and end, and the file's hash.
extern "C" const char kite_pause_image_begin[];
extern "C" const char kite_pause_image_end[];
extern "C" const char kite_pause_image_sha256[];

namespace kite::containerd {

std::string_view PauseImageTarball() {
  return std::string_view(kite_pause_image_begin,
                          static_cast<size_t>(kite_pause_image_end - kite_pause_image_begin));
}

std::string_view PauseImageTarballSha256() { return kite_pause_image_sha256; }

}  // namespace kite::containerd
