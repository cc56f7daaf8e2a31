// The command-line layer: flags in both forms, defaults for root and other users, the
// config file and its precedence, and the errors (each must name the offending word).
// Parsing is pure, so almost everything here runs on described hosts and fake files.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

#include "src/cli/agent_config.h"
#include "src/cli/commands.h"
#include "src/cli/config_file.h"
#include "src/cli/defaults.h"
#include "src/cli/directories.h"
#include "src/cli/flag_parser.h"
#include "src/cli/help.h"
#include "src/cli/host_facts.h"
#include "src/cli/kubectl_command.h"
#include "src/cli/server_config.h"
#include "src/cli/sim_config.h"
#include "src/cli/token_file.h"
#include "src/cli/value_parsers.h"
#include "tests/testing/temp_dir.h"

namespace kite::cli {
namespace {

using Args = std::vector<std::string>;

HostFacts RootHost() {
  return HostFacts{.euid = 0, .home = "/root", .hostname = "Kite-Host", .cwd = "/work"};
}

HostFacts UserHost() {
  return HostFacts{.euid = 1000, .home = "/home/ann", .hostname = "box", .cwd = "/home/ann/src"};
}

// A file system holding only `files` (path -> text), for the config file.
FileReader FakeFiles(std::map<std::string, std::string> files) {
  return [files = std::move(files)](const std::string& path)
             -> Result<std::optional<std::string>> {
    auto it = files.find(path);
    if (it == files.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  };
}

Result<ServerConfig> ParseServer(const Args& args, const HostFacts& facts = RootHost(),
                                 std::map<std::string, std::string> files = {}) {
  return ParseServerConfig(args, facts, FakeFiles(std::move(files)));
}

// The error message of a parse that must fail with kInvalidArgument.
template <class T>
std::string ErrorOf(const Result<T>& result) {
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == StatusCode::kInvalidArgument);
  return result.status().message();
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_CASE("server defaults for root are those of k3s", "[cli]") {
  Result<ServerConfig> config = ParseServer({});
  REQUIRE(config.ok());
  CHECK(config->data_dir == "/var/lib/kite");
  CHECK(config->https_listen_port == 6443);
  CHECK(config->bind_address == "0.0.0.0");
  CHECK(config->write_kubeconfig == "/etc/kite/kite.yaml");
  CHECK(config->write_kubeconfig_mode == 0600);
  CHECK_FALSE(config->disable_agent);
  CHECK(config->token.empty());
  CHECK(config->node_name == "kite-host");  // the host name, lower-cased
  CHECK(config->datastore_endpoint == "sqlite:///var/lib/kite/server/db/state.db");
  CHECK(config->cluster_cidr == "10.42.0.0/16");
  CHECK(config->service_cidr == "10.43.0.0/16");
  CHECK(config->config_file.empty());
  CHECK(config->ServerDir() == "/var/lib/kite/server");
  CHECK(config->TokenPath() == "/var/lib/kite/server/token");
}

TEST_CASE("server defaults for other users live under HOME", "[cli]") {
  Result<ServerConfig> config = ParseServer({}, UserHost());
  REQUIRE(config.ok());
  CHECK(config->data_dir == "/home/ann/.local/share/kite");
  CHECK(config->write_kubeconfig == "/home/ann/.local/share/kite/kite.yaml");
  CHECK(config->datastore_endpoint ==
        "sqlite:///home/ann/.local/share/kite/server/db/state.db");
  CHECK(config->node_name == "box");
  CHECK(config->TokenPath() == "/home/ann/.local/share/kite/server/token");
}

TEST_CASE("--data-dir moves the derived defaults", "[cli]") {
  SECTION("non-root: kubeconfig and endpoint follow the data dir") {
    Result<ServerConfig> config = ParseServer({"--data-dir", "/srv/k"}, UserHost());
    REQUIRE(config.ok());
    CHECK(config->write_kubeconfig == "/srv/k/kite.yaml");
    CHECK(config->datastore_endpoint == "sqlite:///srv/k/server/db/state.db");
    CHECK(config->TokenPath() == "/srv/k/server/token");
  }
  SECTION("root: the kubeconfig stays in /etc/kite") {
    Result<ServerConfig> config = ParseServer({"--data-dir=/srv/k"});
    REQUIRE(config.ok());
    CHECK(config->write_kubeconfig == "/etc/kite/kite.yaml");
    CHECK(config->datastore_endpoint == "sqlite:///srv/k/server/db/state.db");
  }
  SECTION("relative paths are made absolute against the working directory") {
    Result<ServerConfig> config =
        ParseServer({"--data-dir", "state/./k/", "--write-kubeconfig", "../kc.yaml"});
    REQUIRE(config.ok());
    CHECK(config->data_dir == "/work/state/k");
    CHECK(config->write_kubeconfig == "/kc.yaml");
    CHECK(config->datastore_endpoint == "sqlite:///work/state/k/server/db/state.db");
  }
}

TEST_CASE("a non-root user without HOME must name the data dir", "[cli]") {
  HostFacts facts = UserHost();
  facts.home = "";
  CHECK(Contains(ErrorOf(ParseServer({}, facts)), "--data-dir"));
  CHECK(ParseServer({"--data-dir", "/d"}, facts).ok());
  CHECK(Contains(ErrorOf(ParseAgentConfig(
                     {"--server", "https://s", "--token", "t", "--server-ca", "/ca.crt"}, facts)),
                 "--data-dir"));
}

TEST_CASE("every server flag works as --flag value and --flag=value", "[cli]") {
  struct Case {
    std::string flag;
    std::string value;
    std::function<bool(const ServerConfig&)> check;
  };
  std::vector<Case> cases = {
      {"data-dir", "/x/y", [](const ServerConfig& c) { return c.data_dir == "/x/y"; }},
      {"https-listen-port", "7443",
       [](const ServerConfig& c) { return c.https_listen_port == 7443; }},
      {"bind-address", "127.0.0.1",
       [](const ServerConfig& c) { return c.bind_address == "127.0.0.1"; }},
      {"bind-address", "::1", [](const ServerConfig& c) { return c.bind_address == "::1"; }},
      {"write-kubeconfig", "/tmp/kc.yaml",
       [](const ServerConfig& c) { return c.write_kubeconfig == "/tmp/kc.yaml"; }},
      {"write-kubeconfig-mode", "644",
       [](const ServerConfig& c) { return c.write_kubeconfig_mode == 0644; }},
      {"write-kubeconfig-mode", "0640",
       [](const ServerConfig& c) { return c.write_kubeconfig_mode == 0640; }},
      {"token", "s3cret::x", [](const ServerConfig& c) { return c.token == "s3cret::x"; }},
      {"node-name", "node-1.example",
       [](const ServerConfig& c) { return c.node_name == "node-1.example"; }},
      {"datastore-endpoint", "memory://",
       [](const ServerConfig& c) { return c.datastore_endpoint == "memory://"; }},
      {"datastore-endpoint", "sqlite:///d/s.db",
       [](const ServerConfig& c) { return c.datastore_endpoint == "sqlite:///d/s.db"; }},
      {"cluster-cidr", "10.52.0.0/16",
       [](const ServerConfig& c) { return c.cluster_cidr == "10.52.0.0/16"; }},
      {"cluster-cidr", "10.42.0.0/16,fd00:42::/56",
       [](const ServerConfig& c) { return c.cluster_cidr == "10.42.0.0/16,fd00:42::/56"; }},
      {"service-cidr", "10.96.0.0/12",
       [](const ServerConfig& c) { return c.service_cidr == "10.96.0.0/12"; }},
  };
  for (const Case& c : cases) {
    INFO("--" << c.flag << " " << c.value);
    Result<ServerConfig> separate = ParseServer({"--" + c.flag, c.value});
    REQUIRE(separate.ok());
    CHECK(c.check(*separate));
    Result<ServerConfig> joined = ParseServer({"--" + c.flag + "=" + c.value});
    REQUIRE(joined.ok());
    CHECK(c.check(*joined));
  }
  // --config in both forms.
  std::map<std::string, std::string> files = {{"/etc/alt.yaml", "https-listen-port: 1234\n"}};
  for (const Args& args : {Args{"--config", "/etc/alt.yaml"}, Args{"--config=/etc/alt.yaml"}}) {
    Result<ServerConfig> config = ParseServer(args, RootHost(), files);
    REQUIRE(config.ok());
    CHECK(config->https_listen_port == 1234);
    CHECK(config->config_file == "/etc/alt.yaml");
  }
}

TEST_CASE("all server flags at once", "[cli]") {
  Result<ServerConfig> config = ParseServer({
      "--data-dir", "/d", "--https-listen-port=1", "--bind-address", "10.0.0.5",
      "--write-kubeconfig=/k.yaml", "--write-kubeconfig-mode", "0644", "--disable-agent",
      "--token", "tok", "--node-name=n1", "--datastore-endpoint", "memory://",
      "--cluster-cidr", "10.1.0.0/16", "--service-cidr=10.2.0.0/16"});
  REQUIRE(config.ok());
  CHECK(config->data_dir == "/d");
  CHECK(config->https_listen_port == 1);
  CHECK(config->bind_address == "10.0.0.5");
  CHECK(config->write_kubeconfig == "/k.yaml");
  CHECK(config->write_kubeconfig_mode == 0644);
  CHECK(config->disable_agent);
  CHECK(config->token == "tok");
  CHECK(config->node_name == "n1");
  CHECK(config->datastore_endpoint == "memory://");
  CHECK(config->cluster_cidr == "10.1.0.0/16");
  CHECK(config->service_cidr == "10.2.0.0/16");
}

TEST_CASE("boolean flags take no value but accept =true and =false", "[cli]") {
  auto disable_agent = [](const Args& args) {
    Result<ServerConfig> config = ParseServer(args);
    REQUIRE(config.ok());
    return config->disable_agent;
  };
  CHECK_FALSE(disable_agent({}));
  CHECK(disable_agent({"--disable-agent"}));
  CHECK(disable_agent({"--disable-agent=true"}));
  CHECK(disable_agent({"--disable-agent=TRUE"}));
  CHECK(disable_agent({"--disable-agent=1"}));
  CHECK_FALSE(disable_agent({"--disable-agent=false"}));
  CHECK_FALSE(disable_agent({"--disable-agent=0"}));
  CHECK_FALSE(disable_agent({"--disable-agent", "--disable-agent=false"}));  // last wins
  SECTION("the next word is not taken as its value") {
    Result<ServerConfig> config = ParseServer({"--disable-agent", "--https-listen-port", "9"});
    REQUIRE(config.ok());
    CHECK(config->disable_agent);
    CHECK(config->https_listen_port == 9);
    // A word after a boolean flag is a stray argument, not a value.
    CHECK(Contains(ErrorOf(ParseServer({"--disable-agent", "false"})), "\"false\""));
  }
  SECTION("a bad value names the flag") {
    std::string message = ErrorOf(ParseServer({"--disable-agent=maybe"}));
    CHECK(Contains(message, "--disable-agent"));
    CHECK(Contains(message, "\"maybe\""));
  }
}

TEST_CASE("a flag given twice keeps the last value", "[cli]") {
  Result<ServerConfig> config =
      ParseServer({"--https-listen-port", "1000", "--https-listen-port=2000"});
  REQUIRE(config.ok());
  CHECK(config->https_listen_port == 2000);
}

TEST_CASE("unknown flags and stray arguments are named", "[cli]") {
  CHECK(ErrorOf(ParseServer({"--bogus"})) ==
        "unknown flag \"--bogus\" for \"kite server\"; see 'kite server --help'");
  // The = form names the flag without its value.
  CHECK(Contains(ErrorOf(ParseServer({"--bogus=1"})), "\"--bogus\" for \"kite server\""));
  CHECK(Contains(ErrorOf(ParseServer({"-x"})), "unknown flag \"-x\""));
  CHECK(Contains(ErrorOf(ParseServer({"--data-dir", "/d", "extra"})),
                 "unexpected argument \"extra\""));
  CHECK(Contains(ErrorOf(ParseServer({"--", "extra"})), "unexpected argument \"extra\""));
  CHECK(ParseServer({"--"}).ok());
  CHECK(Contains(ErrorOf(ParseAgentConfig({"--port", "1"}, RootHost())),
                 "unknown flag \"--port\" for \"kite agent\""));
  CHECK(Contains(ErrorOf(ParseSimConfig({"--runtime=fake"})),
                 "unknown flag \"--runtime\" for \"kite sim\""));
}

TEST_CASE("a flag without its value is an error", "[cli]") {
  SECTION("at the end of the line") {
    std::string message = ErrorOf(ParseServer({"--data-dir"}));
    CHECK(Contains(message, "--data-dir needs a value"));
  }
  SECTION("followed by another flag") {
    CHECK(Contains(ErrorOf(ParseServer({"--token", "--disable-agent"})),
                   "--token needs a value"));
  }
  SECTION("empty after =") {
    std::string message = ErrorOf(ParseServer({"--token="}));
    CHECK(Contains(message, "--token"));
    CHECK(Contains(message, "empty"));
  }
  SECTION("a value starting with a dash needs the = form") {
    Result<ServerConfig> config = ParseServer({"--token=-abc"});
    REQUIRE(config.ok());
    CHECK(config->token == "-abc");
  }
}

TEST_CASE("bad values are rejected with the flag and the value named", "[cli]") {
  struct Case {
    std::string flag;
    std::string value;
  };
  std::vector<Case> cases = {
      {"https-listen-port", "abc"},   {"https-listen-port", "0"},
      {"https-listen-port", "65536"}, {"https-listen-port", "-1"},
      {"https-listen-port", "80x"},   {"https-listen-port", " 80"},
      {"write-kubeconfig-mode", "999"}, {"write-kubeconfig-mode", "abc"},
      {"write-kubeconfig-mode", "8"},   {"write-kubeconfig-mode", "77777"},
      {"write-kubeconfig-mode", "-600"},
      {"cluster-cidr", "10.42.0.0"},  {"cluster-cidr", "10.42.0.0/33"},
      {"cluster-cidr", "abc/16"},     {"cluster-cidr", "10.42.0/16"},
      {"cluster-cidr", "10.42.0.0/-0"}, {"cluster-cidr", "a/1,b/2"},
      {"service-cidr", "fd00::/129"}, {"service-cidr", "10.0.0.0/8,10.1.0.0/16,10.2.0.0/16"},
      {"bind-address", "localhost"},  {"bind-address", "1.2.3.4:80"},
      {"datastore-endpoint", "/var/db"}, {"datastore-endpoint", "://x"},
      {"node-name", "Upper"},         {"node-name", "under_score"},
      {"node-name", "-lead"},         {"token", "two words"},
  };
  for (const Case& c : cases) {
    for (const Args& args : {Args{"--" + c.flag, c.value}, Args{"--" + c.flag + "=" + c.value}}) {
      INFO(args[0] << (args.size() > 1 ? " " + args[1] : ""));
      Result<ServerConfig> config = ParseServer(args);
      if (c.value[0] == '-' && args.size() == 2) {
        // "--flag -1": the value looks like a flag, so the value is missing.
        CHECK(Contains(ErrorOf(config), "--" + c.flag + " needs a value"));
        continue;
      }
      std::string message = ErrorOf(config);
      CHECK(Contains(message, "--" + c.flag));
      CHECK(Contains(message, "\"" + c.value + "\""));
    }
  }
}

TEST_CASE("--datastore-history-revisions sizes the store's history", "[cli]") {
  SECTION("the default is 10000") {
    Result<ServerConfig> config = ParseServer({});
    REQUIRE(config.ok());
    CHECK(config->datastore_history_revisions == 10000);
    CHECK(Contains(FormatCommandHelp(ServerCommandSpec(RootHost())), "(default: 10000)"));
  }
  SECTION("both forms, and the minimum itself") {
    for (const Args& args : {Args{"--datastore-history-revisions", "200"},
                             Args{"--datastore-history-revisions=200"}}) {
      Result<ServerConfig> config = ParseServer(args);
      REQUIRE(config.ok());
      CHECK(config->datastore_history_revisions == 200);
    }
    Result<ServerConfig> config = ParseServer({"--datastore-history-revisions", "100"});
    REQUIRE(config.ok());
    CHECK(config->datastore_history_revisions == 100);
  }
  SECTION("the config file sets it and the command line wins") {
    std::map<std::string, std::string> files = {
        {"/etc/kite/config.yaml", "datastore-history-revisions: 5000\n"}};
    Result<ServerConfig> from_file = ParseServer({}, RootHost(), files);
    REQUIRE(from_file.ok());
    CHECK(from_file->datastore_history_revisions == 5000);
    Result<ServerConfig> from_flag =
        ParseServer({"--datastore-history-revisions=300"}, RootHost(), files);
    REQUIRE(from_flag.ok());
    CHECK(from_flag->datastore_history_revisions == 300);
  }
  SECTION("below 100, or not an integer, is rejected naming the flag and the value") {
    for (const char* value : {"99", "0", "abc", "1e4", "10000000000"}) {
      INFO(value);
      std::string message = ErrorOf(ParseServer({"--datastore-history-revisions", value}));
      CHECK(Contains(message, "--datastore-history-revisions"));
      CHECK(Contains(message, std::string("\"") + value + "\""));
    }
    CHECK(Contains(ErrorOf(ParseServer({"--datastore-history-revisions", "50"})), "100.."));
    std::string from_file = ErrorOf(ParseServer(
        {}, RootHost(), {{"/etc/kite/config.yaml", "datastore-history-revisions: 10\n"}}));
    CHECK(Contains(from_file, "datastore-history-revisions"));
    CHECK(Contains(from_file, "/etc/kite/config.yaml"));
  }
}

TEST_CASE("--event-ttl takes a Go duration, as kube-apiserver's flag", "[cli]") {
  using std::chrono::milliseconds;
  SECTION("the default is one hour, and help shows it") {
    Result<ServerConfig> config = ParseServer({});
    REQUIRE(config.ok());
    CHECK(config->event_ttl == std::chrono::hours(1));
    std::string help = FormatCommandHelp(ServerCommandSpec(RootHost()));
    CHECK(Contains(help, "--event-ttl DURATION"));
    CHECK(Contains(help, "(default: 1h0m0s)"));
  }
  SECTION("both forms, Go's units and fractions") {
    struct Case {
      const char* value;
      milliseconds want;
    };
    for (const Case& c : {Case{"30m", milliseconds(1'800'000)}, Case{"1h30m", milliseconds(5'400'000)},
                          Case{"2h0m0s", milliseconds(7'200'000)}, Case{"1.5s", milliseconds(1500)},
                          Case{"250ms", milliseconds(250)}, Case{"0", milliseconds(0)},
                          Case{"1500us", milliseconds(1)}}) {
      for (const Args& args : {Args{"--event-ttl", c.value}, Args{std::string("--event-ttl=") + c.value}}) {
        INFO(args[0]);
        Result<ServerConfig> config = ParseServer(args);
        REQUIRE(config.ok());
        CHECK(config->event_ttl == c.want);
      }
    }
  }
  SECTION("the config file sets it and the command line wins") {
    std::map<std::string, std::string> files = {{"/etc/kite/config.yaml", "event-ttl: 10m\n"}};
    Result<ServerConfig> from_file = ParseServer({}, RootHost(), files);
    REQUIRE(from_file.ok());
    CHECK(from_file->event_ttl == std::chrono::minutes(10));
    Result<ServerConfig> from_flag = ParseServer({"--event-ttl=5m"}, RootHost(), files);
    REQUIRE(from_flag.ok());
    CHECK(from_flag->event_ttl == std::chrono::minutes(5));
  }
  SECTION("a value that is not a duration names the flag, the value and the expected form") {
    for (const char* value : {"abc", "10", "1x", "1h 30m", "h", "1.5.5s"}) {
      INFO(value);
      std::string message = ErrorOf(ParseServer({std::string("--event-ttl=") + value}));
      CHECK(Contains(message, "--event-ttl"));
      CHECK(Contains(message, std::string("\"") + value + "\""));
      CHECK(Contains(message, "not a duration such as 1h0m0s"));
    }
    CHECK(ErrorOf(ParseServer({"--event-ttl=abc"})) ==
          "invalid value \"abc\" for flag --event-ttl: not a duration such as 1h0m0s, 30m or 90s");
    std::string negative = ErrorOf(ParseServer({"--event-ttl=-1h"}));
    CHECK(Contains(negative, "--event-ttl"));
    CHECK(Contains(negative, "must not be negative"));
    CHECK(Contains(ErrorOf(ParseServer({"--event-ttl"})), "--event-ttl needs a value"));
    std::string from_file = ErrorOf(ParseServer({}, RootHost(), {{"/etc/kite/config.yaml", "event-ttl: soon\n"}}));
    CHECK(Contains(from_file, "event-ttl"));
    CHECK(Contains(from_file, "\"soon\""));
    CHECK(Contains(from_file, "/etc/kite/config.yaml"));
  }
}

TEST_CASE("the host name must make a valid node name unless --node-name is given", "[cli]") {
  HostFacts facts = RootHost();
  facts.hostname = "my_host";
  std::string message = ErrorOf(ParseServer({}, facts));
  CHECK(Contains(message, "my_host"));
  CHECK(Contains(message, "--node-name"));
  CHECK(ParseServer({"--node-name", "ok"}, facts).ok());
}

TEST_CASE("the config file sets flags, and the command line wins", "[cli]") {
  const std::string yaml =
      "# kite settings\n"
      "data-dir: /srv/kite\n"
      "https-listen-port: 7443\n"
      "disable-agent: true\n"
      "write-kubeconfig-mode: \"0644\"\n"
      "cluster-cidr: 10.52.0.0/16\n"
      "token: from-file\n";
  SECTION("the default file is read when it exists") {
    Result<ServerConfig> config =
        ParseServer({}, RootHost(), {{"/etc/kite/config.yaml", yaml}});
    REQUIRE(config.ok());
    CHECK(config->config_file == "/etc/kite/config.yaml");
    CHECK(config->data_dir == "/srv/kite");
    CHECK(config->https_listen_port == 7443);
    CHECK(config->disable_agent);
    CHECK(config->write_kubeconfig_mode == 0644);
    CHECK(config->cluster_cidr == "10.52.0.0/16");
    CHECK(config->token == "from-file");
    // Values derived from the file's data-dir.
    CHECK(config->datastore_endpoint == "sqlite:///srv/kite/server/db/state.db");
    // Not in the file: defaults.
    CHECK(config->service_cidr == "10.43.0.0/16");
  }
  SECTION("flags override the file") {
    Result<ServerConfig> config = ParseServer(
        {"--https-listen-port", "8443", "--disable-agent=false", "--data-dir=/other"},
        RootHost(), {{"/etc/kite/config.yaml", yaml}});
    REQUIRE(config.ok());
    CHECK(config->https_listen_port == 8443);
    CHECK_FALSE(config->disable_agent);
    CHECK(config->data_dir == "/other");
    CHECK(config->cluster_cidr == "10.52.0.0/16");  // still from the file
  }
  SECTION("--config names another file, and the default one is then ignored") {
    Result<ServerConfig> config =
        ParseServer({"--config", "conf.yaml"}, RootHost(),
                    {{"/etc/kite/config.yaml", "https-listen-port: 1\n"},
                     {"/work/conf.yaml", "https-listen-port: 2\n"}});
    REQUIRE(config.ok());
    CHECK(config->https_listen_port == 2);
    CHECK(config->config_file == "/work/conf.yaml");
  }
  SECTION("a missing --config file is an error; a missing default file is not") {
    std::string message = ErrorOf(ParseServer({"--config", "/nope.yaml"}));
    CHECK(Contains(message, "/nope.yaml"));
    CHECK(Contains(message, "does not exist"));
    Result<ServerConfig> config = ParseServer({});
    REQUIRE(config.ok());
    CHECK(config->config_file.empty());
  }
  SECTION("an empty file or one of comments sets nothing") {
    for (const char* text : {"", "# nothing\n", "---\n"}) {
      Result<ServerConfig> config =
          ParseServer({}, RootHost(), {{"/etc/kite/config.yaml", text}});
      REQUIRE(config.ok());
      CHECK(config->https_listen_port == 6443);
    }
  }
  SECTION("the file cannot be read") {
    FileReader unreadable = [](const std::string& path) -> Result<std::optional<std::string>> {
      return IoError("cannot read " + path + ": Permission denied");
    };
    Result<ServerConfig> config = ParseServerConfig({}, RootHost(), unreadable);
    REQUIRE_FALSE(config.ok());
    CHECK(Contains(config.status().message(), "/etc/kite/config.yaml"));
  }
}

TEST_CASE("config file errors name the key and the file", "[cli]") {
  auto error = [](const std::string& text) {
    return ErrorOf(ParseServer({"--config", "/c.yaml"}, RootHost(), {{"/c.yaml", text}}));
  };
  SECTION("unknown key") {
    std::string message = error("data-dir: /d\nbogus-key: 1\n");
    CHECK(Contains(message, "\"bogus-key\""));
    CHECK(Contains(message, "/c.yaml:2"));
  }
  SECTION("a key written with dashes is unknown") {
    CHECK(Contains(error("--data-dir: /d\n"), "\"--data-dir\""));
  }
  SECTION("bad value") {
    std::string message = error("\nhttps-listen-port: abc\n");
    CHECK(Contains(message, "https-listen-port"));
    CHECK(Contains(message, "\"abc\""));
    CHECK(Contains(message, "/c.yaml:2"));
    CHECK(Contains(error("write-kubeconfig-mode: 999\n"), "\"999\""));
    CHECK(Contains(error("disable-agent: perhaps\n"), "\"perhaps\""));
  }
  SECTION("the config file cannot name another") {
    CHECK(Contains(error("config: /other.yaml\n"), "\"config\""));
  }
  SECTION("malformed YAML gives yaml-cpp's line and column") {
    std::string message = error("data-dir: /d\n  bad: [1, 2\n");
    CHECK(Contains(message, "/c.yaml"));
    CHECK(Contains(message, "line"));
    CHECK(Contains(message, "column"));
  }
  SECTION("the top level must be a mapping") {
    CHECK(Contains(error("- data-dir\n"), "mapping"));
    CHECK(Contains(error("just text\n"), "mapping"));
  }
  SECTION("values must be single scalars") {
    CHECK(Contains(error("cluster-cidr: [a, b]\n"), "\"cluster-cidr\""));
    CHECK(Contains(error("data-dir:\n"), "no value"));
    CHECK(Contains(error("token: {a: 1}\n"), "\"token\""));
  }
  SECTION("a key given twice") {
    CHECK(Contains(error("token: a\ntoken: b\n"), "more than once"));
  }
}

TEST_CASE("ParseConfigFile keeps scalars as written", "[cli]") {
  Result<ConfigFile> file =
      ParseConfigFile("a: 1\nb: \"0600\"\nc: yes\nd: 'x y'\n", "/f.yaml");
  REQUIRE(file.ok());
  REQUIRE(file->entries.size() == 4);
  CHECK(file->entries[0].key == "a");
  CHECK(file->entries[0].value == "1");
  CHECK(file->entries[1].value == "0600");
  CHECK(file->entries[2].value == "yes");
  CHECK(file->entries[3].value == "x y");
  CHECK(file->entries[3].line == 4);
  CHECK(file->path == "/f.yaml");
}

TEST_CASE("agent flags", "[cli]") {
  const Args required = {"--server", "https://10.0.0.1:6443", "--token", "t0k", "--server-ca",
                         "tls/server-ca.crt"};
  SECTION("defaults") {
    Result<AgentConfig> config = ParseAgentConfig(required, RootHost());
    REQUIRE(config.ok());
    CHECK(config->server_url == "https://10.0.0.1:6443");
    CHECK(config->token == "t0k");
    CHECK(config->server_ca == "/work/tls/server-ca.crt");  // relative to the working directory
    CHECK(config->data_dir == "/var/lib/kite");
    CHECK(config->node_name == "kite-host");
    CHECK(config->runtime == RuntimeKind::kContainerd);
    Result<AgentConfig> user = ParseAgentConfig(required, UserHost());
    REQUIRE(user.ok());
    CHECK(user->data_dir == "/home/ann/.local/share/kite");
    CHECK(user->server_ca == "/home/ann/src/tls/server-ca.crt");
  }
  SECTION("every flag in both forms") {
    for (bool joined : {false, true}) {
      auto flag = [joined](Args& args, const std::string& name, const std::string& value) {
        if (joined) {
          args.push_back("--" + name + "=" + value);
        } else {
          args.push_back("--" + name);
          args.push_back(value);
        }
      };
      Args args;
      flag(args, "server", "http://h");
      flag(args, "token", "tk");
      flag(args, "server-ca", "/etc/kite/ca.pem");
      flag(args, "data-dir", "/a");
      flag(args, "node-name", "worker-1");
      flag(args, "runtime", "fake");
      Result<AgentConfig> config = ParseAgentConfig(args, UserHost());
      REQUIRE(config.ok());
      CHECK(config->server_url == "http://h");
      CHECK(config->token == "tk");
      CHECK(config->server_ca == "/etc/kite/ca.pem");
      CHECK(config->data_dir == "/a");
      CHECK(config->node_name == "worker-1");
      CHECK(config->runtime == RuntimeKind::kFake);
    }
  }
  SECTION("--server, --token and --server-ca are required") {
    CHECK(ErrorOf(ParseAgentConfig({"--token", "t"}, RootHost())) ==
          "missing required flag --server for \"kite agent\"; see 'kite agent --help'");
    CHECK(Contains(ErrorOf(ParseAgentConfig({"--server", "https://s"}, RootHost())),
                   "missing required flag --token"));
    CHECK(Contains(ErrorOf(ParseAgentConfig({}, RootHost())), "--server"));
    CHECK(ErrorOf(ParseAgentConfig({"--server", "https://s", "--token", "t"}, RootHost())) ==
          "missing required flag --server-ca for \"kite agent\"; see 'kite agent --help'");
    CHECK(Contains(ErrorOf(ParseAgentConfig({"--server", "https://s", "--token", "t", "--server-ca"},
                                            RootHost())),
                   "--server-ca needs a value"));
  }
  SECTION("bad values") {
    Args args = required;
    args.push_back("--runtime=docker");
    std::string message = ErrorOf(ParseAgentConfig(args, RootHost()));
    CHECK(Contains(message, "\"docker\""));
    CHECK(Contains(message, "containerd or fake"));
    for (const char* url : {"10.0.0.1:6443", "ftp://h", "https://", "https://:6443"}) {
      INFO(url);
      CHECK(Contains(ErrorOf(ParseAgentConfig({"--server", url, "--token", "t"}, RootHost())),
                     "--server"));
    }
  }
}

TEST_CASE("sim flags", "[cli]") {
  SECTION("both forms") {
    Result<SimConfig> a = ParseSimConfig(
        {"--server", "https://s:6443", "--token", "t", "--server-ca", "ca.crt", "--nodes", "50"});
    REQUIRE(a.ok());
    CHECK(a->server_url == "https://s:6443");
    CHECK(a->token == "t");
    CHECK(a->server_ca == "ca.crt");
    CHECK(a->nodes == 50);
    Result<SimConfig> b =
        ParseSimConfig({"--server=https://s", "--token=t", "--server-ca=/ca.crt", "--nodes=1"});
    REQUIRE(b.ok());
    CHECK(b->server_ca == "/ca.crt");
    CHECK(b->nodes == 1);
  }
  SECTION("--nodes is required and positive") {
    CHECK(Contains(
        ErrorOf(ParseSimConfig({"--server", "https://s", "--token", "t", "--server-ca", "c"})),
        "missing required flag --nodes"));
    for (const char* n : {"0", "abc", "1.5", "100001"}) {
      INFO(n);
      std::string message =
          ErrorOf(ParseSimConfig({"--server", "https://s", "--token", "t", "--nodes", n}));
      CHECK(Contains(message, "--nodes"));
      CHECK(Contains(message, std::string("\"") + n + "\""));
    }
    CHECK(Contains(
        ErrorOf(ParseSimConfig({"--server", "https://s", "--token", "t", "--nodes", "-3"})),
        "--nodes needs a value"));
  }
  SECTION("--server, --token and --server-ca are required") {
    CHECK(Contains(ErrorOf(ParseSimConfig({"--token", "t", "--nodes", "1"})), "--server"));
    CHECK(Contains(ErrorOf(ParseSimConfig({"--server", "https://s", "--nodes", "1"})),
                   "--token"));
    CHECK(Contains(
        ErrorOf(ParseSimConfig({"--server", "https://s", "--token", "t", "--nodes", "1"})),
        "missing required flag --server-ca for \"kite sim\""));
  }
}

TEST_CASE("WantsHelp finds -h and --help before --", "[cli]") {
  CHECK(WantsHelp({"--help"}));
  CHECK(WantsHelp({"-h"}));
  CHECK(WantsHelp({"--data-dir", "/d", "--help"}));
  CHECK_FALSE(WantsHelp({}));
  CHECK_FALSE(WantsHelp({"--", "--help"}));
  CHECK_FALSE(WantsHelp({"--token=--help"}));
}

TEST_CASE("command help lists every flag with its default", "[cli]") {
  std::string help = FormatCommandHelp(ServerCommandSpec(RootHost()));
  for (const FlagSpec& flag : ServerCommandSpec(RootHost()).flags) {
    CHECK(Contains(help, "--" + flag.name));
  }
  CHECK(Contains(help, "Usage: kite server"));
  CHECK(Contains(help, "(default: 6443)"));
  CHECK(Contains(help, "(default: /var/lib/kite)"));
  CHECK(Contains(help, "--help"));
  std::string user_help = FormatCommandHelp(ServerCommandSpec(UserHost()));
  CHECK(Contains(user_help, "/home/ann/.local/share/kite"));
  std::string agent_help = FormatCommandHelp(AgentCommandSpec(RootHost()));
  CHECK(Contains(agent_help, "--server URL"));
  CHECK(Contains(agent_help, "--server-ca FILE"));
  CHECK(Contains(FormatCommandHelp(SimCommandSpec()), "--server-ca FILE"));
  CHECK(Contains(agent_help, "(required)"));
  // No line is wider than 80 columns, save a word too long to break.
  std::istringstream lines(help + agent_help);
  for (std::string line; std::getline(lines, line);) CHECK(line.size() <= 80);
}

TEST_CASE("the command table and top-level texts", "[cli]") {
  for (const char* name : {"server", "agent", "sim", "kubectl"}) {
    const Command* command = FindCommand(name);
    REQUIRE(command != nullptr);
    CHECK(command->name == name);
    CHECK_FALSE(command->summary.empty());
    CHECK(Contains(TopLevelHelp("0.1.0"), std::string("  ") + name + " "));
  }
  CHECK(FindCommand("bogus") == nullptr);
  CHECK(VersionLine("0.1.0") == "kite version v0.1.0");
  CHECK(UnknownCommandMessage("bogus") == "kite: unknown command \"bogus\"; see 'kite --help'");
  CHECK(Contains(UnknownCommandMessage("--bogus"), "unknown flag \"--bogus\""));
}

TEST_CASE("kite kubectl points kubectl at the default kubeconfig", "[cli]") {
  CHECK(KubeconfigForKubectl(RootHost(), nullptr) == "/etc/kite/kite.yaml");
  CHECK(KubeconfigForKubectl(UserHost(), nullptr) == "/home/ann/.local/share/kite/kite.yaml");
  CHECK(KubeconfigForKubectl(UserHost(), "") == "/home/ann/.local/share/kite/kite.yaml");
  CHECK_FALSE(KubeconfigForKubectl(UserHost(), "/mine.yaml").has_value());
  HostFacts homeless = UserHost();
  homeless.home = "";
  CHECK_FALSE(KubeconfigForKubectl(homeless, nullptr).has_value());
}

TEST_CASE("value parsers", "[cli]") {
  CHECK(ParseFileMode("600") == 0600u);
  CHECK(ParseFileMode("0600") == 0600u);
  CHECK(ParseFileMode("7777") == 07777u);
  CHECK(ParseFileMode("00644") == 0644u);
  CHECK_FALSE(ParseFileMode("17777"));
  CHECK_FALSE(ParseFileMode(""));
  CHECK_FALSE(ParseFileMode("0x1"));
  CHECK(ParsePort("1") == 1);
  CHECK(ParsePort("65535") == 65535);
  CHECK_FALSE(ParsePort("+80"));
  CHECK_FALSE(ParsePort("99999999999999999999"));
  CHECK(ParseBool("Yes") == true);
  CHECK(ParseBool("no") == false);
  CHECK_FALSE(ParseBool("y"));
  CHECK(IsCidrList("0.0.0.0/0"));
  CHECK(IsCidrList("fd00::/8"));
  CHECK_FALSE(IsCidrList("10.0.0.0/8,"));
  CHECK_FALSE(IsCidrList("10.0.0.0/"));
  CHECK(IsHttpUrl("https://[::1]:6443"));
  CHECK(IsHttpUrl("https://k.example/path"));
  CHECK_FALSE(IsHttpUrl("https://user@h"));
  CHECK(IsEndpoint("memory://"));
  CHECK_FALSE(IsEndpoint("Sqlite:///x"));
  CHECK(IsDnsSubdomain("a"));
  CHECK_FALSE(IsDnsSubdomain(std::string(254, 'a')));
  CHECK_FALSE(IsDnsSubdomain("a."));
  CHECK(IsTokenText("K10abc::server:xyz"));
  CHECK_FALSE(IsTokenText("a\tb"));
  CHECK(ParseDuration("1h0m0s") == std::chrono::hours(1));
  CHECK(ParseDuration("-90s") == std::chrono::seconds(-90));  // parses; the flag kind rejects it
  CHECK(ParseDuration("1.5ms") == std::chrono::microseconds(1500));
  CHECK_FALSE(ParseDuration("1"));
  CHECK_FALSE(ParseDuration(""));
  CHECK_FALSE(ParseDuration("1d"));
}

TEST_CASE("FlagValues report where each value came from", "[cli]") {
  CommandSpec spec = ServerCommandSpec(RootHost());
  Result<CommandLine> command_line = ParseCommandLine(spec, {"--token", "t"});
  REQUIRE(command_line.ok());
  ConfigFile file{"/c.yaml", {{"https-listen-port", "1", 1}, {"token", "file", 2}}};
  Result<FlagValues> values = ResolveFlags(spec, *command_line, &file);
  REQUIRE(values.ok());
  CHECK(values->Source("token") == FlagSource::kCommandLine);
  CHECK(values->String("token") == "t");
  CHECK(values->Source("https-listen-port") == FlagSource::kConfigFile);
  CHECK(values->Port("https-listen-port") == 1);
  CHECK(values->Source("bind-address") == FlagSource::kDefault);
  CHECK(values->IsSet("token"));
  CHECK_FALSE(values->IsSet("bind-address"));
  CHECK(values->Has("bind-address"));
  CHECK_FALSE(values->Has("write-kubeconfig"));  // derived by the command, not defaulted
  CHECK(values->String("write-kubeconfig").empty());
}

TEST_CASE("the token file is written once, reused, and replaced by --token", "[cli]") {
  testing::TempDir dir;
  std::string path = dir.file("token");
  auto file_text = [&path] {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  auto mode = [&path] {
    struct stat st {};
    REQUIRE(stat(path.c_str(), &st) == 0);
    return st.st_mode & 07777;
  };

  Result<std::string> generated = EnsureTokenFile(path, "");
  REQUIRE(generated.ok());
  CHECK(generated->size() == 64);
  CHECK(generated->find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(file_text() == *generated + "\n");
  CHECK(mode() == 0600);

  Result<std::string> reused = EnsureTokenFile(path, "");
  REQUIRE(reused.ok());
  CHECK(*reused == *generated);

  Result<std::string> given = EnsureTokenFile(path, "mine");
  REQUIRE(given.ok());
  CHECK(*given == "mine");
  CHECK(file_text() == "mine\n");
  REQUIRE(EnsureTokenFile(path, "").ok());
  CHECK(*EnsureTokenFile(path, "") == "mine");

  SECTION("a loose mode is tightened on reuse") {
    REQUIRE(chmod(path.c_str(), 0644) == 0);
    REQUIRE(EnsureTokenFile(path, "").ok());
    CHECK(mode() == 0600);
  }
  SECTION("an empty token file is an error, not silently replaced") {
    std::ofstream(path, std::ios::trunc) << "  \n";
    Result<std::string> token = EnsureTokenFile(path, "");
    REQUIRE_FALSE(token.ok());
    CHECK(Contains(token.status().message(), path));
  }
  SECTION("two generated tokens differ") {
    CHECK(*GenerateToken() != *GenerateToken());
  }
  SECTION("a missing directory is an I/O error naming the path") {
    Result<std::string> token = EnsureTokenFile(dir.file("no/such/token"), "");
    REQUIRE_FALSE(token.ok());
    CHECK(token.status().code() == StatusCode::kIoError);
    CHECK(Contains(token.status().message(), "no/such"));
  }
}

TEST_CASE("MakeDirectories creates parents and keeps existing ones", "[cli]") {
  testing::TempDir dir;
  std::string deep = dir.file("a/b/c");
  REQUIRE(MakeDirectories(deep, 0700).ok());
  CHECK(std::filesystem::is_directory(deep));
  REQUIRE(MakeDirectories(deep, 0700).ok());  // again: fine
  std::ofstream(dir.file("file")) << "x";
  Status status = MakeDirectories(dir.file("file/sub"), 0700);
  REQUIRE_FALSE(status.ok());
  CHECK(Contains(status.message(), "not a directory"));
}

TEST_CASE("ReadFileIfExists tells missing from unreadable", "[cli]") {
  testing::TempDir dir;
  Result<std::optional<std::string>> missing = ReadFileIfExists(dir.file("none"));
  REQUIRE(missing.ok());
  CHECK_FALSE(missing->has_value());
  std::ofstream(dir.file("f")) << "text";
  Result<std::optional<std::string>> present = ReadFileIfExists(dir.file("f"));
  REQUIRE(present.ok());
  CHECK(**present == "text");
  Result<std::optional<std::string>> directory = ReadFileIfExists(dir.path().string());
  CHECK_FALSE(directory.ok());
}

}  // namespace
}  // namespace kite::cli
