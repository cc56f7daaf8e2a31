// Crash safety of the SQLite store: a child writes in a loop and is killed with SIGKILL at
// a random moment; after reopening, every write it had acknowledged must be there and the
// database must pass PRAGMA integrity_check. Repeated on the same database.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <set>
#include <sstream>

#include "src/store/sqlite_db.h"
#include "src/store/sqlite_store.h"
#include "tests/store/crash_values.h"
#include "tests/testing/temp_dir.h"

extern char** environ;

namespace kite::store {
namespace {

// Starts the writer with its stdout on a pipe; returns its pid and the pipe's read end.
std::pair<pid_t, int> SpawnWriter(const std::string& db, long first) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::string first_arg = std::to_string(first);
  char* argv[] = {const_cast<char*>(KITE_CRASH_WRITER), const_cast<char*>(db.c_str()),
                  first_arg.data(), nullptr};
  pid_t pid = 0;
  int rc = posix_spawn(&pid, KITE_CRASH_WRITER, &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  REQUIRE(rc == 0);
  return {pid, fds[0]};
}

TEST_CASE("sqlite: acknowledged writes survive SIGKILL at random moments", "[sqlite][crash]") {
  testing::TempDir dir;
  const std::string db = dir.file("state.db");
  std::mt19937 rng(std::random_device{}());
  std::set<long> acknowledged;
  constexpr int kRounds = 25;

  for (int round = 0; round < kRounds; ++round) {
    auto [pid, out] = SpawnWriter(db, round * 1'000'000L);
    // Let it run for a random number of acknowledgements (and so a random time), reading
    // as we go; then kill it mid-stream.
    const size_t kill_after = std::uniform_int_distribution<size_t>(1, 400)(rng);
    std::string buffer;
    size_t lines = 0;
    char chunk[4096];
    while (lines < kill_after) {
      ssize_t n = read(out, chunk, sizeof chunk);
      if (n <= 0) break;
      buffer.append(chunk, n);
      lines = std::count(buffer.begin(), buffer.end(), '\n');
    }
    REQUIRE(kill(pid, SIGKILL) == 0);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFSIGNALED(status));
    // Lines written before the kill are still in the pipe: they were acknowledged too.
    ssize_t n;
    while ((n = read(out, chunk, sizeof chunk)) > 0) buffer.append(chunk, n);
    close(out);
    REQUIRE(lines >= 1);

    std::istringstream in(buffer);
    std::string line;
    while (std::getline(in, line)) {
      if (!in.eof()) acknowledged.insert(std::stol(line));  // ignore a torn last line
    }

    {
      auto check = SqliteDb::Open(db, /*read_only=*/false);
      REQUIRE(check.ok());
      auto integrity = (*check)->QueryText("PRAGMA integrity_check");
      REQUIRE(integrity.ok());
      REQUIRE(*integrity == "ok");
    }
    auto store = SqliteStore::Open(db);
    REQUIRE(store.ok());
    for (long key : acknowledged) {
      auto kv = (*store)->Get(testing::CrashKey(key));
      INFO("round " << round << " key " << key);
      REQUIRE(kv.ok());
      REQUIRE(kv->value == testing::CrashFinalValue(key));
    }
    // Revisions keep counting up from where the killed writer left off.
    auto rev = (*store)->Create("/after-crash/" + std::to_string(round), "x");
    REQUIRE(rev.ok());
    REQUIRE(*rev > static_cast<int64_t>(acknowledged.size()));
  }
  INFO("acknowledged writes checked: " << acknowledged.size());
  REQUIRE(acknowledged.size() >= kRounds);
}

}  // namespace
}  // namespace kite::store
