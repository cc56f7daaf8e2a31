// OpenSSL reports why a call failed in a thread-local queue of error codes. Draining it into
// the Status of the failed call puts the reason where the caller sees it, and keeps stale
// errors out of the next call's message.
//
// Thread-safety: the queue is per thread; call on the thread whose OpenSSL call failed.
#pragma once

#include <string>

namespace kite {

// Every queued error as OpenSSL words it ("error:0A000086:SSL routines::certificate verify
// failed"), "; "-separated, oldest first; `if_none` when the queue was empty. Empties it.
std::string TakeOpenSslErrors(const char* if_none = "no OpenSSL error reported");

}  // namespace kite
