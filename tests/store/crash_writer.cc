// Test helper for sqlite_crash_test: writes to a SqliteStore in a loop from several threads
// and prints "<key> <revision>\n" on stdout after each write is acknowledged, until killed.
//
// usage: store_crash_writer DB_PATH FIRST_KEY_NUMBER
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "src/base/mutex.h"
#include "src/store/sqlite_store.h"
#include "tests/store/crash_values.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s DB_PATH FIRST_KEY_NUMBER\n", argv[0]);
    return 2;
  }
  auto store = kite::store::SqliteStore::Open(argv[1]);  // default durability: kFull
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", store.status().ToString().c_str());
    return 1;
  }
  const long first = std::atol(argv[2]);
  kite::Mutex out_mu;
  constexpr int kThreads = 4;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (long n = first + t;; n += kThreads) {
        std::string key = kite::testing::CrashKey(n);
        auto rev = (*store)->Create(key, kite::testing::CrashValue(n));
        if (!rev.ok()) {
          std::fprintf(stderr, "create %s: %s\n", key.c_str(), rev.status().ToString().c_str());
          std::_Exit(1);
        }
        // Every third key is also updated, so acknowledged updates are checked too.
        if (n % 3 == 0) {
          rev = (*store)->Update(key, kite::testing::CrashValue(n) + "+", *rev);
          if (!rev.ok()) std::_Exit(1);
        }
        std::string line = std::to_string(n) + "\n";
        kite::MutexLock lock(out_mu);
        // One write(2) per line: the parent never sees half a line from a finished write.
        if (write(STDOUT_FILENO, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
          std::_Exit(1);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
}
