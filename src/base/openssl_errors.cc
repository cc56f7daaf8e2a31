#include "src/base/openssl_errors.h"

#include <openssl/err.h>

namespace kite {

std::string TakeOpenSslErrors(const char* if_none) {
  std::string text;
  while (unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    if (!text.empty()) text += "; ";
    text += buf;
  }
  return text.empty() ? if_none : text;
}

}  // namespace kite
