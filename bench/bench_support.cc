#include "bench/bench_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "src/server/json/json_util.h"

namespace kite::bench {

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

namespace {

std::string StringAt(const rapidjson::Value* object, std::string_view name) {
  if (object == nullptr || !object->IsObject()) return "";
  return std::string(json::StringMember(*object, name));
}

}  // namespace

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }
double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[static_cast<size_t>(p * static_cast<double>(values.size() - 1))];
}

Result<int> FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return IoError("socket failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    close(fd);
    return IoError("cannot bind a port on 127.0.0.1");
  }
  close(fd);
  return static_cast<int>(ntohs(address.sin_port));
}

Result<std::unique_ptr<ChildProcess>> ChildProcess::Start(const std::vector<std::string>& argv,
                                                          const std::string& log_path) {
  if (argv.empty()) return InvalidArgumentError("empty argv");
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) return IoError("cannot open " + log_path);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(log);
    return IoError("fork failed");
  }
  if (pid == 0) {  // only async-signal-safe calls until exec
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);
    setpgid(0, 0);  // a terminal's Ctrl-C reaches the benchmark, which stops it in order
    int null = open("/dev/null", O_RDONLY);
    dup2(null, 0);
    dup2(log, 1);
    dup2(log, 2);
    execv(args[0], args.data());
    _exit(127);
  }
  close(log);
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid));
}

ChildProcess::~ChildProcess() { Stop(); }

bool ChildProcess::Alive() {
  if (reaped_) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    reaped_ = true;
    return false;
  }
  return true;
}

void ChildProcess::Stop(std::chrono::seconds grace) {
  if (!Alive()) return;
  kill(pid_, SIGTERM);
  auto deadline = Clock::now() + grace;
  while (Clock::now() < deadline) {
    if (!Alive()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  reaped_ = true;
}

long ProcStatusKb(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::atol(line.c_str() + field.size() + 1);
  }
  return -1;
}

double ProcCpuSeconds(pid_t pid) {
  std::string stat = ReadWholeFile("/proc/" + std::to_string(pid) + "/stat");
  size_t close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close_paren + 2));
  std::vector<std::string> f;
  std::string token;
  while (fields >> token) f.push_back(token);
  // After the name: state is field 3, utime 14, stime 15 (1-based in proc(5)).
  if (f.size() < 13) return -1;
  double ticks = std::stod(f[11]) + std::stod(f[12]);
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

Result<std::unique_ptr<client::HttpsTransport>> AdminTransport(const std::string& data_dir, int port,
                                                              size_t max_idle_connections) {
  std::string tls = data_dir + "/server/tls/";
  client::HttpsTransportOptions options;
  options.server_url = "https://127.0.0.1:" + std::to_string(port);
  options.ca_pem = ReadWholeFile(tls + "server-ca.crt");
  options.client_cert_pem = ReadWholeFile(tls + "client-admin.crt");
  options.client_key_pem = ReadWholeFile(tls + "client-admin.key");
  options.max_idle_connections = max_idle_connections;
  options.user_agent = "kite-bench";
  if (options.ca_pem.empty() || options.client_cert_pem.empty() || options.client_key_pem.empty()) {
    return NotFoundError("no admin credentials under " + tls);
  }
  return client::HttpsTransport::Create(std::move(options));
}

Status WaitUntil(const std::string& what, std::chrono::milliseconds timeout,
                 std::chrono::milliseconds interval, const std::function<bool()>& ready,
                 const std::function<bool()>& alive) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    if (ready()) return Status::Ok();
    if (alive && !alive()) return InternalError(what + ": the process died");
    if (Clock::now() > deadline) return UnavailableError(what + ": timed out");
    std::this_thread::sleep_for(interval);
  }
}

Result<std::string> Get(client::ApiTransport& api, const std::string& path, const std::string& query) {
  client::ClientRequest request;
  request.path = path;
  request.query = query;
  client::ClientResponse response = api.Do(request);
  if (response.status != 200) {
    return UnavailableError("GET " + path + ": " + std::to_string(response.status) + " " +
                            response.body.substr(0, 300));
  }
  return std::move(response.body);
}

Result<std::unique_ptr<PodWatch>> PodWatch::Start(client::ApiTransport& api, const std::string& ns,
                                                  std::function<void(const PodEvent&)> on_event) {
  Result<std::string> list = Get(api, "/api/v1/namespaces/" + ns + "/pods", "limit=1");
  if (!list.ok()) return list.status();
  Result<rapidjson::Document> doc = json::ParseJsonObject(*list);
  if (!doc.ok()) return doc.status();
  std::unique_ptr<PodWatch> watch(new PodWatch());
  watch->api_ = &api;
  watch->ns_ = ns;
  watch->resource_version_ = StringAt(json::Member(*doc, "metadata"), "resourceVersion");
  watch->on_event_ = std::move(on_event);
  watch->thread_ = std::thread([w = watch.get()] { w->Run(); });
  return watch;
}

PodWatch::~PodWatch() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void PodWatch::Run() {
  while (!stop_) {
    client::ClientRequest request;
    request.path = "/api/v1/namespaces/" + ns_ + "/pods";
    request.query = "watch=true&allowWatchBookmarks=true&timeoutSeconds=3600&resourceVersion=" +
                    resource_version_;
    Result<std::unique_ptr<client::WatchReader>> reader = api_->Watch(request);
    if (!reader.ok()) {
      if (reader.status().code() == StatusCode::kCompacted) {
        // Too far behind for the history: every pod as it is now, as an informer's re-list
        // would see it (arrival = now, so the figures can only get worse, never better).
        Result<std::string> list = Get(*api_, request.path);
        if (list.ok()) {
          Result<rapidjson::Document> doc = json::ParseJsonObject(*list);
          if (doc.ok()) {
            resource_version_ = StringAt(json::Member(*doc, "metadata"), "resourceVersion");
            const rapidjson::Value* items = json::Member(*doc, "items");
            auto now = Clock::now();
            if (items != nullptr && items->IsArray()) {
              for (const rapidjson::Value& pod : items->GetArray()) {
                on_event_({"MODIFIED", StringAt(json::Member(pod, "metadata"), "name"),
                           StringAt(json::Member(pod, "spec"), "nodeName"),
                           StringAt(json::Member(pod, "status"), "phase"), now});
              }
            }
          }
        }
      }
      restarts_++;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    while (!stop_) {
      Result<std::vector<std::string>> lines = (*reader)->Next(std::chrono::milliseconds(100));
      if (!lines.ok()) break;  // the stream ended: watch again from the last version
      auto now = Clock::now();
      for (const std::string& line : *lines) {
        Result<rapidjson::Document> event = json::ParseJsonObject(line);
        if (!event.ok()) continue;
        const rapidjson::Value* object = json::Member(*event, "object");
        if (object == nullptr || !object->IsObject()) continue;
        const rapidjson::Value* md = json::Member(*object, "metadata");
        std::string rv = StringAt(md, "resourceVersion");
        if (!rv.empty()) resource_version_ = rv;
        std::string type = StringAt(&*event, "type");
        if (type == "BOOKMARK" || type == "ERROR") continue;
        on_event_({type, StringAt(md, "name"), StringAt(json::Member(*object, "spec"), "nodeName"),
                   StringAt(json::Member(*object, "status"), "phase"), now});
      }
    }
    if (!stop_) restarts_++;
  }
}

}  // namespace kite::bench
