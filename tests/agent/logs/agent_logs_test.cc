// Container logs: the CRI log line format, the /containerLogs query, and log streams over
// files written here, found through a small Runtime stub whose containers carry log paths.
#include <catch2/catch.hpp>
#include <chrono>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "src/agent/logs/container_log.h"
#include "src/agent/logs/cri_log_format.h"
#include "src/agent/logs/log_options.h"
#include "src/base/mutex.h"
#include "tests/testing/temp_dir.h"

namespace kite::agent::logs {
namespace {

using namespace std::chrono_literals;

constexpr int64_t kSecond = 1'000'000'000;
// 2024-01-02T03:04:05Z
constexpr int64_t kT0 = 1704164645LL * kSecond;

// Just enough of a runtime for logs: a list of containers, each with a state.
class StubRuntime final : public runtime::Runtime {
 public:
  runtime::VersionInfo Version() const override { return {"stub", "1"}; }
  Result<std::string> PullImage(const std::string&) override { return InternalError("stub"); }
  Result<std::string> RunPodSandbox(const runtime::PodSandboxConfig&) override { return InternalError("stub"); }
  Status StopPodSandbox(const std::string&) override { return InternalError("stub"); }
  Status RemovePodSandbox(const std::string&) override { return InternalError("stub"); }
  Result<runtime::PodSandbox> PodSandboxStatus(const std::string&) override { return InternalError("stub"); }
  Result<std::vector<runtime::PodSandbox>> ListPodSandbox() override { return InternalError("stub"); }
  Result<std::string> CreateContainer(const std::string&, const runtime::ContainerConfig&,
                                      const runtime::PodSandboxConfig&) override {
    return InternalError("stub");
  }
  Status StartContainer(const std::string&) override { return InternalError("stub"); }
  Status StopContainer(const std::string&, int64_t) override { return InternalError("stub"); }
  Status RemoveContainer(const std::string&) override { return InternalError("stub"); }

  Result<runtime::Container> ContainerStatus(const std::string& id) override {
    MutexLock l(mu_);
    for (const auto& c : containers_) {
      if (c.id == id) return c;
    }
    return NotFoundError("no container " + id);
  }
  Result<std::vector<runtime::Container>> ListContainers(const std::string&) override {
    MutexLock l(mu_);
    return containers_;
  }

  void Add(const std::string& id, const std::string& pod_uid, const std::string& name,
           uint32_t attempt, const std::string& log_path,
           runtime::ContainerState state = runtime::ContainerState::kRunning) {
    runtime::Container c;
    c.id = id;
    c.metadata = {name, attempt};
    c.state = state;
    c.created_at = 1000 + attempt;
    c.log_path = log_path;
    c.labels = {{runtime::kPodUidLabel, pod_uid},
                {runtime::kPodNameLabel, "web"},
                {runtime::kContainerNameLabel, name}};
    MutexLock l(mu_);
    containers_.push_back(std::move(c));
  }
  void SetState(const std::string& id, runtime::ContainerState state) {
    MutexLock l(mu_);
    for (auto& c : containers_) {
      if (c.id == id) c.state = state;
    }
  }

 private:
  Mutex mu_;
  std::vector<runtime::Container> containers_ GUARDED_BY(mu_);
};

void Append(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::app | std::ios::binary);
  f << text;
}

std::string Line(int64_t t, std::string_view content, bool partial = false, bool err = false) {
  return FormatCriLogLine(t, err, partial, content);
}

// Runs a stream as the HTTP server would: Start, then Poll whenever woken.
class Reader {
 public:
  explicit Reader(std::unique_ptr<http::ResponseStream> stream) : stream_(std::move(stream)) {
    stream_->Start([this] {
      std::lock_guard<std::mutex> l(mu_);
      ++wakes_;
      cv_.notify_all();
    });
  }
  ~Reader() {
    if (!ended_) stream_->Cancel();
  }
  // Polls until the stream ends or `until` is in the output (or the timeout passes).
  std::string Run(std::chrono::milliseconds timeout = 5000ms, const std::string& until = "") {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    int seen = 0;
    while (!ended_) {
      if (!stream_->Poll(out_)) ended_ = true;
      if (!until.empty() && out_.find(until) != std::string::npos) break;
      if (ended_) break;
      std::unique_lock<std::mutex> l(mu_);
      if (!cv_.wait_until(l, deadline, [&] { return wakes_ != seen; })) break;
      seen = wakes_;
    }
    return out_;
  }
  bool ended() const { return ended_; }

 private:
  std::unique_ptr<http::ResponseStream> stream_;
  std::mutex mu_;
  std::condition_variable cv_;
  int wakes_ = 0;
  bool ended_ = false;
  std::string out_;
};

std::string ReadAll(StubRuntime& rt, const LogOptions& o, const std::string& name = "app") {
  auto stream = OpenContainerLog(rt, "uid-1", name, o);
  REQUIRE(stream.ok());
  Reader r(std::move(stream).value());
  std::string out = r.Run();
  CHECK(r.ended());
  return out;
}

TEST_CASE("CRI log lines: parse and format") {
  auto e = ParseCriLogLine("2024-01-02T03:04:05.123456789Z stdout F hello world");
  REQUIRE(e);
  CHECK(e->unix_nanos == kT0 + 123456789);
  CHECK(e->timestamp == "2024-01-02T03:04:05.123456789Z");
  CHECK_FALSE(e->is_stderr);
  CHECK_FALSE(e->partial);
  CHECK(e->content == "hello world");

  e = ParseCriLogLine("2024-01-02T05:04:05.5+02:00 stderr P part");
  REQUIRE(e);
  CHECK(e->unix_nanos == kT0 + 500000000);
  CHECK(e->is_stderr);
  CHECK(e->partial);
  CHECK(e->content == "part");

  e = ParseCriLogLine("2024-01-02T03:04:05Z stdout F");  // empty content
  REQUIRE(e);
  CHECK(e->content.empty());
  e = ParseCriLogLine("2024-01-02T03:04:05Z stdout F:x  two spaces");  // tag extension
  REQUIRE(e);
  CHECK_FALSE(e->partial);
  CHECK(e->content == " two spaces");

  CHECK_FALSE(ParseCriLogLine(""));
  CHECK_FALSE(ParseCriLogLine("hello"));
  CHECK_FALSE(ParseCriLogLine("2024-01-02T03:04:05Z stdin F x"));
  CHECK_FALSE(ParseCriLogLine("2024-13-02T03:04:05Z stdout F x"));
  CHECK_FALSE(ParseCriLogLine("2024-01-02T03:04:05 stdout F x"));  // no zone
  CHECK_FALSE(ParseCriLogLine("2024-01-02T03:04:05Z stdout"));

  CHECK(FormatRfc3339Nanos(kT0) == "2024-01-02T03:04:05Z");
  CHECK(FormatRfc3339Nanos(kT0 + 120000000) == "2024-01-02T03:04:05.12Z");
  CHECK(FormatRfc3339Nanos(kT0 + 1) == "2024-01-02T03:04:05.000000001Z");
  CHECK(FormatCriLogLine(kT0, true, true, "x") == "2024-01-02T03:04:05Z stderr P x\n");
  CHECK(ParseRfc3339Nanos("2024-02-29T00:00:00Z"));
  CHECK_FALSE(ParseRfc3339Nanos("2023-02-29T00:00:00Z"));
  CHECK_FALSE(ParseRfc3339Nanos("2024-01-02T03:04:05.1234567890Z"));  // 10 digits
  CHECK_FALSE(ParseRfc3339Nanos("2024-01-02T03:04:05.Z"));
  for (int64_t t : {int64_t{0}, kT0, kT0 + 999999999, int64_t{-5} * kSecond + 3}) {
    CHECK(ParseRfc3339Nanos(FormatRfc3339Nanos(t)) == t);
  }
}

TEST_CASE("ParseLogOptions reads PodLogOptions from the query and validates it") {
  auto o = ParseLogOptions(
      "follow=true&previous=1&timestamps=True&tailLines=10&limitBytes=500&sinceTime=2024-01-02T03%3A04%3A05Z");
  REQUIRE(o.ok());
  CHECK(o->follow);
  CHECK(o->previous);
  CHECK(o->timestamps);
  CHECK(o->tail_lines == 10);
  CHECK(o->limit_bytes == 500);
  CHECK(o->since_time == kT0);
  CHECK_FALSE(o->since_seconds);

  o = ParseLogOptions("follow=false&timestamps=0&sinceSeconds=30&tail=all&container=x");
  REQUIRE(o.ok());
  CHECK_FALSE(o->follow);
  CHECK_FALSE(o->timestamps);
  CHECK(o->since_seconds == 30);
  CHECK_FALSE(o->tail_lines);
  CHECK(ParseLogOptions("tail=7")->tail_lines == 7);
  CHECK(ParseLogOptions("")->tail_lines == std::nullopt);
  CHECK(ParseLogOptions("tailLines=")->tail_lines == std::nullopt);

  auto error = [](std::string_view q) {
    auto r = ParseLogOptions(q);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    return r.status().message();
  };
  CHECK(error("tailLines=-1") == "tailLines: Invalid value: -1: must be greater than or equal to 0");
  CHECK(error("limitBytes=0") == "limitBytes: Invalid value: 0: must be greater than 0");
  CHECK(error("sinceSeconds=0") == "sinceSeconds: Invalid value: 0: must be greater than 0");
  CHECK(error("sinceSeconds=5&sinceTime=2024-01-02T03:04:05Z") ==
        "Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified");
  CHECK(error("tailLines=ten").find("tailLines") != std::string::npos);
  CHECK(error("sinceTime=yesterday").find("sinceTime") != std::string::npos);
  CHECK(error("limitBytes=%zz").find("escape") != std::string::npos);
}

struct LogFixture {
  testing::TempDir dir;
  StubRuntime rt;
  std::string path0 = dir.file("0.log");
  std::string path1 = dir.file("1.log");
};

TEST_CASE("a container log: entries joined, stderr included, garbage skipped, newest attempt") {
  LogFixture f;
  Append(f.path0, Line(kT0, "old attempt"));
  Append(f.path1, Line(kT0, "one") + Line(kT0 + 1, "tw", true) + "not a log line\n" +
                      Line(kT0 + 2, "o") + Line(kT0 + 3, "three", false, true));
  f.rt.Add("c0", "uid-1", "app", 0, f.path0, runtime::ContainerState::kExited);
  f.rt.Add("c1", "uid-1", "app", 1, f.path1);
  f.rt.Add("other", "uid-2", "app", 5, f.path0);  // another pod's container

  CHECK(ReadAll(f.rt, {}) == "one\ntwo\nthree\n");

  LogOptions ts;
  ts.timestamps = true;
  CHECK(ReadAll(f.rt, ts) == "2024-01-02T03:04:05Z one\n2024-01-02T03:04:05.000000001Z two\n"
                             "2024-01-02T03:04:05.000000003Z three\n");

  LogOptions previous;
  previous.previous = true;
  CHECK(ReadAll(f.rt, previous) == "old attempt\n");
}

TEST_CASE("a container log: tail, since and limitBytes") {
  LogFixture f;
  for (int i = 0; i < 5; ++i) Append(f.path0, Line(kT0 + i * kSecond, "line " + std::to_string(i)));
  f.rt.Add("c0", "uid-1", "app", 0, f.path0, runtime::ContainerState::kExited);

  LogOptions o;
  o.tail_lines = 2;
  CHECK(ReadAll(f.rt, o) == "line 3\nline 4\n");
  o.tail_lines = 0;
  CHECK(ReadAll(f.rt, o).empty());
  o.tail_lines = 100;
  CHECK(ReadAll(f.rt, o) == "line 0\nline 1\nline 2\nline 3\nline 4\n");

  LogOptions since;
  since.since_time = kT0 + 3 * kSecond;  // entries at that time are kept
  CHECK(ReadAll(f.rt, since) == "line 3\nline 4\n");

  LogOptions limit;
  limit.limit_bytes = 10;
  CHECK(ReadAll(f.rt, limit) == "line 0\nlin");
  limit.limit_bytes = 7;
  CHECK(ReadAll(f.rt, limit) == "line 0\n");

  LogOptions both;  // tail first, then since
  both.tail_lines = 3;
  both.since_time = kT0 + 3 * kSecond;
  both.timestamps = true;
  CHECK(ReadAll(f.rt, both) == "2024-01-02T03:04:08Z line 3\n2024-01-02T03:04:09Z line 4\n");
}

TEST_CASE("a container log: sinceSeconds counts back from now") {
  LogFixture f;
  int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  Append(f.path0, Line(now - 3600 * kSecond, "an hour ago") + Line(now - kSecond, "just now"));
  f.rt.Add("c0", "uid-1", "app", 0, f.path0, runtime::ContainerState::kExited);
  LogOptions o;
  o.since_seconds = 60;
  CHECK(ReadAll(f.rt, o) == "just now\n");
}

TEST_CASE("a container log: errors") {
  LogFixture f;
  Append(f.path0, Line(kT0, "x"));
  f.rt.Add("c0", "uid-1", "app", 0, f.path0);
  f.rt.Add("c9", "uid-1", "nolog", 0, "");

  auto missing = OpenContainerLog(f.rt, "uid-1", "db", {});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK(missing.status().message() == "container \"db\" in pod \"uid-1\" is not available");

  LogOptions previous;
  previous.previous = true;
  auto no_previous = OpenContainerLog(f.rt, "uid-1", "app", previous);
  REQUIRE_FALSE(no_previous.ok());
  CHECK(no_previous.status().code() == StatusCode::kInvalidArgument);
  CHECK(no_previous.status().message() == "previous terminated container \"app\" in pod \"web\" not found");

  auto no_log = OpenContainerLog(f.rt, "uid-1", "nolog", {});
  REQUIRE_FALSE(no_log.ok());
  CHECK(no_log.status().code() == StatusCode::kNotFound);

  // A log file that does not exist (yet) reads as empty.
  f.rt.Add("c2", "uid-1", "fresh", 0, f.dir.file("none.log"), runtime::ContainerState::kExited);
  CHECK(ReadAll(f.rt, {}, "fresh").empty());
}

TEST_CASE("a container log: follow streams appended lines until the container stops") {
  LogFixture f;
  Append(f.path0, Line(kT0, "first") + Line(kT0 + 1, "hal", true));
  f.rt.Add("c0", "uid-1", "app", 0, f.path0);
  LogOptions o;
  o.follow = true;
  auto stream = OpenContainerLog(f.rt, "uid-1", "app", o, 10ms);
  REQUIRE(stream.ok());
  Reader r(std::move(stream).value());
  // A partial entry's content is sent at once; its line ends with the next entry.
  CHECK(r.Run(2000ms, "hal") == "first\nhal");
  CHECK_FALSE(r.ended());

  // An entry written in two pieces (the first without its '\n'): sent once complete.
  std::string next = Line(kT0 + 2, "f");
  Append(f.path0, next.substr(0, 10));
  std::this_thread::sleep_for(50ms);
  Append(f.path0, next.substr(10));
  CHECK(r.Run(2000ms, "half\n") == "first\nhalf\n");
  CHECK_FALSE(r.ended());

  // The container writes a last line and stops: the line arrives, then the stream ends.
  Append(f.path0, Line(kT0 + 3, "last"));
  f.rt.SetState("c0", runtime::ContainerState::kExited);
  CHECK(r.Run(5000ms) == "first\nhalf\nlast\n");
  CHECK(r.ended());
}

TEST_CASE("a container log: follow waits for a missing file and reopens a replaced one") {
  LogFixture f;
  f.rt.Add("c0", "uid-1", "app", 0, f.path0);
  LogOptions o;
  o.follow = true;
  auto stream = OpenContainerLog(f.rt, "uid-1", "app", o, 10ms);
  REQUIRE(stream.ok());
  Reader r(std::move(stream).value());
  CHECK(r.Run(100ms).empty());
  Append(f.path0, Line(kT0, "appeared"));
  CHECK(r.Run(2000ms, "appeared\n") == "appeared\n");

  // Rotation: the file is renamed away and a new one takes its path.
  std::filesystem::rename(f.path0, f.dir.file("0.log.1"));
  Append(f.path0, Line(kT0 + 1, "rotated"));
  CHECK(r.Run(2000ms, "rotated\n") == "appeared\nrotated\n");
  CHECK_FALSE(r.ended());
}

TEST_CASE("a container log: Cancel stops a follow promptly") {
  LogFixture f;
  Append(f.path0, Line(kT0, "x"));
  f.rt.Add("c0", "uid-1", "app", 0, f.path0);
  LogOptions o;
  o.follow = true;
  auto stream = OpenContainerLog(f.rt, "uid-1", "app", o, 10ms);
  REQUIRE(stream.ok());
  std::atomic<int> wakes{0};
  (*stream)->Start([&] { ++wakes; });
  std::string out;
  CHECK((*stream)->Poll(out));
  CHECK(out == "x\n");
  auto start = std::chrono::steady_clock::now();
  (*stream)->Cancel();
  CHECK(std::chrono::steady_clock::now() - start < 1s);
  int after = wakes;
  Append(f.path0, Line(kT0, "y"));
  std::this_thread::sleep_for(50ms);
  CHECK(wakes == after);  // no wake after Cancel
}

TEST_CASE("a container log: a big file is read in pieces and comes out whole") {
  LogFixture f;
  std::string expected;
  std::string text;
  for (int i = 0; i < 5000; ++i) {
    std::string content = "line number " + std::to_string(i) + std::string(20, 'x');
    text += Line(kT0 + i, content);
    expected += content + "\n";
  }
  Append(f.path0, text);
  f.rt.Add("c0", "uid-1", "app", 0, f.path0, runtime::ContainerState::kExited);
  CHECK(ReadAll(f.rt, {}) == expected);
  LogOptions tail;
  tail.tail_lines = 1;
  CHECK(ReadAll(f.rt, tail) == "line number 4999" + std::string(20, 'x') + "\n");
}

}  // namespace
}  // namespace kite::agent::logs
