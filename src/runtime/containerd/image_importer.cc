#include "src/runtime/containerd/image_importer.h"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "src/runtime/containerd/containerd_config.h"
#include "src/runtime/containerd/subprocess.h"

namespace kite::containerd {
namespace {

constexpr const char* kNamespace = "k8s.io";

std::vector<std::string> CtrArgs(const ImportOptions& options, const std::string& socket) {
  return {options.ctr_binary, "-a", socket, "-n", kNamespace};
}

CommandOptions ToCommandOptions(const ImportOptions& options) {
  CommandOptions c;
  c.timeout = options.timeout;
  c.cancel = options.cancel;
  return c;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

// Runs `ctr images import` with `input` ("-" for stdin) and checks its exit.
Status RunImport(const std::string& socket, const std::string& input, const std::string& what,
                 CommandOptions command, const ImportOptions& options) {
  std::vector<std::string> argv = CtrArgs(options, socket);
  for (const char* a : {"images", "import", "--snapshotter"}) argv.emplace_back(a);
  argv.emplace_back(kSnapshotter);
  argv.push_back(input);
  Result<CommandResult> run = RunCommand(argv, command);
  if (!run.ok()) {
    return Status(run.status().code(), "importing " + what + ": " + run.status().message());
  }
  if (run->exit_code != 0) {
    return InternalError("importing " + what + ": ctr exited with " +
                         std::to_string(run->exit_code) + ": " + Trim(run->output));
  }
  return Status::Ok();
}

bool IsCompressed(const std::string& path) {
  return path.ends_with(".gz") || path.ends_with(".tgz");
}

}  // namespace

Status ImportImage(const std::string& socket, const std::string& path,
                   const ImportOptions& options) {
  if (::access(path.c_str(), R_OK) != 0) {
    return NotFoundError("image tarball " + path + ": " + std::strerror(errno));
  }
  if (!IsCompressed(path)) {
    return RunImport(socket, path, path, ToCommandOptions(options), options);
  }
  gzFile gz = ::gzopen(path.c_str(), "rb");
  if (gz == nullptr) return IoError("cannot open " + path + ": " + std::strerror(errno));
  std::unique_ptr<gzFile_s, int (*)(gzFile)> closer(gz, ::gzclose);
  CommandOptions command = ToCommandOptions(options);
  command.stdin_source = [gz, &path](char* buffer, size_t capacity) -> Result<size_t> {
    unsigned want = static_cast<unsigned>(std::min<size_t>(capacity, 1u << 20));
    int n = ::gzread(gz, buffer, want);
    if (n < 0) {
      int err = 0;
      const char* message = ::gzerror(gz, &err);
      return IoError("decompressing " + path + ": " + (message ? message : "error"));
    }
    return static_cast<size_t>(n);
  };
  return RunImport(socket, "-", path, std::move(command), options);
}

Status ImportImageBytes(const std::string& socket, std::string_view tar,
                        const ImportOptions& options) {
  CommandOptions command = ToCommandOptions(options);
  size_t offset = 0;
  command.stdin_source = [tar, &offset](char* buffer, size_t capacity) -> Result<size_t> {
    size_t n = std::min(capacity, tar.size() - offset);
    std::memcpy(buffer, tar.data() + offset, n);
    offset += n;
    return n;
  };
  return RunImport(socket, "-", "an in-memory image (" + std::to_string(tar.size()) + " bytes)",
                   std::move(command), options);
}

Result<std::vector<std::string>> ListImages(const std::string& socket,
                                            const ImportOptions& options) {
  std::vector<std::string> argv = CtrArgs(options, socket);
  for (const char* a : {"images", "ls", "-q"}) argv.emplace_back(a);
  CommandOptions command = ToCommandOptions(options);
  command.timeout = std::min(options.timeout, std::chrono::milliseconds(std::chrono::seconds(60)));
  command.max_output = 4 << 20;
  Result<CommandResult> run = RunCommand(argv, command);
  if (!run.ok()) return Status(run.status().code(), "listing images: " + run.status().message());
  if (run->exit_code != 0) {
    return InternalError("listing images: ctr exited with " + std::to_string(run->exit_code) +
                         ": " + Trim(run->output));
  }
  std::vector<std::string> refs;
  size_t pos = 0;
  const std::string& out = run->output;
  while (pos < out.size()) {
    size_t end = out.find('\n', pos);
    if (end == std::string::npos) end = out.size();
    std::string line = Trim(out.substr(pos, end - pos));
    if (!line.empty()) refs.push_back(std::move(line));
    pos = end + 1;
  }
  return refs;
}

}  // namespace kite::containerd
