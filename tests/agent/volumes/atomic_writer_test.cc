#include "src/agent/volumes/atomic_writer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/testing/temp_dir.h"

namespace kite::agent::volumes {
namespace {

namespace fs = std::filesystem;

std::string Read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Link(const fs::path& p) {
  std::error_code ec;
  fs::path target = fs::read_symlink(p, ec);
  return ec ? "" : target.string();
}

int ModeOf(const fs::path& p) {
  struct stat st;
  REQUIRE(stat(p.c_str(), &st) == 0);
  return static_cast<int>(st.st_mode & 07777);
}

// The timestamped directories in `dir`.
std::vector<std::string> Versions(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.rfind("..", 0) == 0 && name != "..data" && fs::is_directory(fs::symlink_status(e.path()))) {
      out.push_back(name);
    }
  }
  return out;
}

TEST_CASE("atomic writer: timestamped data, a ..data link and one link per top-level name") {
  testing::TempDir tmp;
  AtomicWriter writer(tmp.path().string());
  Payload payload{{"a.conf", {"alpha", 0644}}, {"sub/dir/b", {"beta", 0600}}};
  Result<bool> wrote = writer.Write(payload);
  REQUIRE(wrote.ok());
  CHECK(*wrote);

  std::string data = Link(tmp.path() / "..data");
  REQUIRE(!data.empty());
  CHECK(data.rfind("..", 0) == 0);
  CHECK(data.find('/') == std::string::npos);
  CHECK(Link(tmp.path() / "a.conf") == "..data/a.conf");
  CHECK(Link(tmp.path() / "sub") == "..data/sub");
  CHECK(Read(tmp.path() / "a.conf") == "alpha");
  CHECK(Read(tmp.path() / "sub/dir/b") == "beta");
  CHECK(ModeOf(tmp.path() / "a.conf") == 0644);
  CHECK(ModeOf(tmp.path() / "sub/dir/b") == 0600);
  CHECK(Versions(tmp.path()).size() == 1);

  // The same payload again: nothing changes.
  wrote = writer.Write(payload);
  REQUIRE(wrote.ok());
  CHECK_FALSE(*wrote);
  CHECK(Link(tmp.path() / "..data") == data);
}

TEST_CASE("atomic writer: updates in place — new version, old one gone, removed names unlinked") {
  testing::TempDir tmp;
  AtomicWriter writer(tmp.path().string());
  REQUIRE(writer.Write({{"keep", {"1", 0644}}, {"drop", {"x", 0644}}}).ok());
  std::string first = Link(tmp.path() / "..data");
  // A reader holding the file open across the update keeps the old contents.
  std::ifstream held(tmp.path() / "keep");

  Result<bool> wrote = writer.Write({{"keep", {"2", 0644}}, {"new", {"n", 0400}}});
  REQUIRE(wrote.ok());
  CHECK(*wrote);
  std::string second = Link(tmp.path() / "..data");
  CHECK(second != first);
  CHECK_FALSE(fs::exists(tmp.path() / first));
  CHECK(Versions(tmp.path()) == std::vector<std::string>{second});
  CHECK(Read(tmp.path() / "keep") == "2");
  CHECK(Read(tmp.path() / "new") == "n");
  CHECK(ModeOf(tmp.path() / "new") == 0400);
  CHECK_FALSE(fs::exists(fs::symlink_status(tmp.path() / "drop")));
  std::string old;
  held >> old;
  CHECK(old == "1");

  // A mode change alone is a change.
  wrote = writer.Write({{"keep", {"2", 0600}}, {"new", {"n", 0400}}});
  REQUIRE(wrote.ok());
  CHECK(*wrote);
  CHECK(ModeOf(tmp.path() / "keep") == 0600);
}

TEST_CASE("atomic writer: an empty payload leaves only ..data") {
  testing::TempDir tmp;
  AtomicWriter writer(tmp.path().string());
  REQUIRE(writer.Write({{"a", {"1", 0644}}}).ok());
  Result<bool> wrote = writer.Write({});
  REQUIRE(wrote.ok());
  CHECK(*wrote);
  CHECK_FALSE(fs::exists(fs::symlink_status(tmp.path() / "a")));
  CHECK(fs::is_directory(tmp.path() / "..data"));
}

TEST_CASE("atomic writer: paths are checked with the kubelet's messages") {
  testing::TempDir tmp;
  AtomicWriter writer(tmp.path().string());
  auto message = [&](const std::string& path) {
    Result<bool> r = writer.Write({{path, {"x", 0644}}});
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    return r.status().message();
  };
  CHECK(message("/etc/passwd") == "invalid path: must be relative path: /etc/passwd");
  CHECK(message("a/../../b") == "invalid path: must not contain '..': a/../../b");
  CHECK(message("..data") == "invalid path: must not start with '..': ..data");
  CHECK(message("") == "invalid path: must not be empty: \"\"");
  CHECK(message(std::string(256, 'a')) == "invalid path: filenames must be less than or equal to 255 characters");
  CHECK(fs::is_empty(tmp.path()));  // nothing written for a bad payload
  CHECK(ValidatePayloadPath("ok/..x").ok());
}

TEST_CASE("atomic writer: with a group, files get it and group read") {
  if (geteuid() != 0) return;  // chown needs root
  testing::TempDir tmp;
  AtomicWriter writer(tmp.path().string(), 1234);
  REQUIRE(writer.Write({{"f", {"x", 0600}}}).ok());
  struct stat st;
  REQUIRE(stat((tmp.path() / "f").c_str(), &st) == 0);
  CHECK(st.st_gid == 1234);
  CHECK((st.st_mode & 07777) == 0640);
}

}  // namespace
}  // namespace kite::agent::volumes
