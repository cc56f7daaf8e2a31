#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "src/runtime/containerd/pause_image.h"
#include "src/runtime/containerd/subprocess.h"

namespace kite::containerd {
namespace {

using namespace std::chrono_literals;

TEST_CASE("RunCommand returns exit code and combined output") {
  auto r = RunCommand({"sh", "-c", "echo out; echo err >&2; exit 3"});
  REQUIRE(r.ok());
  CHECK(r->exit_code == 3);
  CHECK(r->output == "out\nerr\n");
}

TEST_CASE("RunCommand feeds stdin from a source in chunks") {
  std::string input(300 * 1024, 'x');  // more than a socket buffer
  input += "end";
  size_t offset = 0;
  CommandOptions options;
  options.stdin_source = [&](char* buffer, size_t capacity) -> Result<size_t> {
    size_t n = std::min(capacity, input.size() - offset);
    std::memcpy(buffer, input.data() + offset, n);
    offset += n;
    return n;
  };
  auto r = RunCommand({"sh", "-c", "wc -c; "}, options);
  REQUIRE(r.ok());
  CHECK(r->exit_code == 0);
  CHECK(std::stoul(r->output) == input.size());
}

TEST_CASE("RunCommand survives a program that exits without reading its stdin") {
  CommandOptions options;
  int calls = 0;
  options.stdin_source = [&](char* buffer, size_t capacity) -> Result<size_t> {
    if (++calls > 200) return size_t{0};  // ~12 MiB in total
    std::memset(buffer, 'y', capacity);
    return capacity;
  };
  auto r = RunCommand({"true"}, options);  // no SIGPIPE may kill this test
  REQUIRE(r.ok());
  CHECK(r->exit_code == 0);
}

TEST_CASE("RunCommand: a failing stdin source kills the program and reports why") {
  CommandOptions options;
  options.stdin_source = [](char*, size_t) -> Result<size_t> {
    return IoError("disk on fire");
  };
  auto r = RunCommand({"cat"}, options);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kIoError);
  CHECK(r.status().message().find("disk on fire") != std::string::npos);
}

TEST_CASE("RunCommand: missing program, timeout, cancel, signal exit") {
  auto missing = RunCommand({"/nonexistent/kite-no-such-program"});
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK(RunCommand({}).status().code() == StatusCode::kInvalidArgument);

  CommandOptions quick;
  quick.timeout = 200ms;
  auto start = std::chrono::steady_clock::now();
  auto slow = RunCommand({"sleep", "30"}, quick);
  CHECK(slow.status().code() == StatusCode::kUnavailable);
  CHECK(std::chrono::steady_clock::now() - start < 5s);

  std::atomic<bool> cancel{true};
  CommandOptions cancelled;
  cancelled.cancel = &cancel;
  CHECK(RunCommand({"sleep", "30"}, cancelled).status().code() == StatusCode::kUnavailable);

  auto killed = RunCommand({"sh", "-c", "kill -9 $$"});
  REQUIRE(killed.ok());
  CHECK(killed->exit_code == 128 + 9);
}

TEST_CASE("RunCommand keeps only the tail of long output") {
  CommandOptions options;
  options.max_output = 10;
  auto r = RunCommand({"sh", "-c", "echo 0123456789abcdefghij"}, options);
  REQUIRE(r.ok());
  CHECK(r->output == "bcdefghij\n");
}

TEST_CASE("TailOfFile returns whole last lines") {
  char path[] = "/tmp/kite-tail-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  std::string text = "first line\nsecond line\nthird\n";
  REQUIRE(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  close(fd);
  CHECK(TailOfFile(path, 1000) == text);
  CHECK(TailOfFile(path, 10) == "third\n");
  CHECK(TailOfFile("/nonexistent/file", 10) == "");
  unlink(path);
}

TEST_CASE("the embedded pause image is the tarball packaging/images built") {
  std::string_view tar = PauseImageTarball();
  std::ifstream in(KITE_IMAGES_DIR "/pause.tar", std::ios::binary);
  REQUIRE(in.good());
  std::stringstream file;
  file << in.rdbuf();
  CHECK(tar.size() == file.str().size());
  CHECK(tar == file.str());
  CHECK(tar.size() > 1024);
  CHECK(PauseImageTarballSha256().size() == 64);
  // A docker archive: the manifest names the image.
  CHECK(tar.find("kite.local/pause:1") != std::string_view::npos);
}

}  // namespace
}  // namespace kite::containerd
