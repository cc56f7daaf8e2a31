// AirGapImages against a fake ctr (a shell script that records its calls), so the folder
// logic is tested without containerd; containerd_test.cc imports real images.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "src/runtime/containerd/air_gap_images.h"

namespace kite::containerd {
namespace {

using namespace std::chrono_literals;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

// Sets the file's mtime `age` in the past.
void Age(const std::string& path, std::chrono::seconds age) {
  timespec times[2];
  clock_gettime(CLOCK_REALTIME, &times[0]);
  times[0].tv_sec -= age.count();
  times[1] = times[0];
  REQUIRE(utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream s(text);
  std::string line;
  while (std::getline(s, line)) lines.push_back(line);
  return lines;
}

struct Fixture {
  Fixture() {
    char tmpl[] = "/tmp/kite-airgap-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    root = tmpl;
    images = root + "/images";
    ctr = root + "/fake-ctr";
    calls = root + "/calls";
    // The fake ctr records its arguments; an input named *bad* fails like a corrupt
    // archive; "-" (stdin) is saved to stdin.<call number>.
    WriteFile(ctr,
              "#!/bin/sh\n"
              "last=''; for a in \"$@\"; do last=$a; done\n"
              "echo \"$*\" >> " + calls + "\n"
              "n=$(wc -l < " + calls + " | tr -d ' ')\n"
              "case \"$last\" in\n"
              "  *bad*) echo 'ctr: unrecognized image format' >&2; exit 1;;\n"
              "  -) cat > " + root + "/stdin.$n;;\n"
              "esac\n");
    REQUIRE(chmod(ctr.c_str(), 0755) == 0);
    std::filesystem::create_directories(images);
  }
  ~Fixture() { std::filesystem::remove_all(root); }

  AirGapOptions Options() {
    AirGapOptions o;
    o.socket = root + "/containerd.sock";
    o.images_dir = images;
    o.ctr_binary = ctr;
    o.poll_interval = 100ms;
    o.log = [this](const std::string& line) { log += line + "\n"; };
    return o;
  }
  std::vector<std::string> Calls() { return Lines(ReadFile(calls)); }

  std::string root, images, ctr, calls;
  std::string log;
};

TEST_CASE("air-gap folder: each tarball imported once, .gz decompressed, failures logged") {
  Fixture f;
  WriteFile(f.images + "/a.tar", "tar-a");
  std::string gzip = "printf 'plain tar bytes' | gzip > " + f.images + "/b.tar.gz";
  REQUIRE(std::system(gzip.c_str()) == 0);
  WriteFile(f.images + "/bad.tar", "garbage");
  WriteFile(f.images + "/.hidden.tar", "x");
  WriteFile(f.images + "/notes.txt", "x");
  for (const char* name : {"a.tar", "b.tar.gz", "bad.tar", ".hidden.tar", "notes.txt"}) {
    Age(f.images + "/" + name, 10s);
  }

  AirGapImages airgap(f.Options());
  auto n = airgap.ScanOnce();
  REQUIRE(n.ok());
  CHECK(*n == 2);
  CHECK(airgap.imported_count() == 2);
  std::vector<std::string> calls = f.Calls();
  REQUIRE(calls.size() == 3);  // in name order: a.tar, b.tar.gz, bad.tar
  CHECK(calls[0] == "-a " + f.root + "/containerd.sock -n k8s.io images import --snapshotter "
                    "overlayfs " + f.images + "/a.tar");
  CHECK(calls[1].ends_with(" images import --snapshotter overlayfs -"));
  CHECK(ReadFile(f.root + "/stdin.2") == "plain tar bytes");
  CHECK(calls[2].ends_with("/bad.tar"));
  CHECK(f.log.find("cannot import " + f.images + "/bad.tar") != std::string::npos);
  CHECK(f.log.find("unrecognized image format") != std::string::npos);

  std::string record = ReadFile(f.images + "/.imported");
  CHECK(record.find(" a.tar\n") != std::string::npos);
  CHECK(record.find(" b.tar.gz\n") != std::string::npos);
  CHECK(record.find("bad.tar") == std::string::npos);

  SECTION("a second scan imports nothing and does not retry the failure") {
    auto again = airgap.ScanOnce();
    REQUIRE(again.ok());
    CHECK(*again == 0);
    CHECK(f.Calls().size() == 3);
  }
  SECTION("a restarted agent remembers what it imported, and retries the failure once") {
    AirGapImages restarted(f.Options());
    auto again = restarted.ScanOnce();
    REQUIRE(again.ok());
    CHECK(*again == 0);
    REQUIRE(f.Calls().size() == 4);
    CHECK(f.Calls()[3].ends_with("/bad.tar"));
  }
  SECTION("a changed file is imported again") {
    WriteFile(f.images + "/a.tar", "tar-a, version 2");
    Age(f.images + "/a.tar", 5s);
    auto again = airgap.ScanOnce();
    REQUIRE(again.ok());
    CHECK(*again == 1);
    REQUIRE(f.Calls().size() == 4);
    CHECK(f.Calls()[3].ends_with("/a.tar"));
  }
  SECTION("a removed file is forgotten, so putting it back imports it again") {
    std::filesystem::remove(f.images + "/a.tar");
    REQUIRE(airgap.ScanOnce().ok());
    CHECK(ReadFile(f.images + "/.imported").find(" a.tar\n") == std::string::npos);
    WriteFile(f.images + "/a.tar", "tar-a");
    Age(f.images + "/a.tar", 10s);
    auto again = airgap.ScanOnce();
    REQUIRE(again.ok());
    CHECK(*again == 1);
  }
}

TEST_CASE("air-gap folder: a file still being written waits until it settles") {
  Fixture f;
  WriteFile(f.images + "/fresh.tar", "half");
  AirGapImages airgap(f.Options());
  auto n = airgap.ScanOnce();
  REQUIRE(n.ok());
  CHECK(*n == 0);
  CHECK(f.Calls().empty());
  Age(f.images + "/fresh.tar", 10s);
  n = airgap.ScanOnce();
  REQUIRE(n.ok());
  CHECK(*n == 1);
}

TEST_CASE("air-gap folder: the background scan picks up files that appear later") {
  Fixture f;
  AirGapImages airgap(f.Options());
  airgap.Start();
  std::this_thread::sleep_for(300ms);
  CHECK(airgap.imported_count() == 0);
  WriteFile(f.images + "/late.tar.tmp", "late");
  Age(f.images + "/late.tar.tmp", 10s);
  REQUIRE(rename((f.images + "/late.tar.tmp").c_str(), (f.images + "/late.tar").c_str()) == 0);
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (airgap.imported_count() < 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  CHECK(airgap.imported_count() == 1);
  airgap.Stop();
  airgap.Stop();  // idempotent
  REQUIRE(f.Calls().size() == 1);
  CHECK(f.Calls()[0].ends_with("/late.tar"));
}

TEST_CASE("air-gap folder: the folder is created when missing") {
  Fixture f;
  AirGapOptions o = f.Options();
  o.images_dir = f.root + "/new/images";
  AirGapImages airgap(o);
  auto n = airgap.ScanOnce();
  REQUIRE(n.ok());
  CHECK(std::filesystem::is_directory(o.images_dir));
}

}  // namespace
}  // namespace kite::containerd
