#include <catch2/catch.hpp>

#include <rapidjson/document.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "src/runtime/containerd/containerd_config.h"
#include "src/runtime/containerd/host_facts.h"

namespace kite::containerd {
namespace {

ContainerdOptions Options() {
  ContainerdOptions o;
  o.dir = "/var/lib/kite/agent";
  o.pod_cidr = "10.42.3.0/24";
  o.bridge_name = "kt42";
  return o;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_CASE("ValidateCidr accepts IPv4 and IPv6 prefixes and names what is wrong") {
  CHECK(ValidateCidr("10.42.0.0/16").ok());
  CHECK(ValidateCidr("10.42.3.0/24").ok());
  CHECK(ValidateCidr("fd00:42::/64").ok());
  for (const char* bad : {"", "10.42.0.0", "10.42.0.0/33", "10.42.0.0/", "10.42.0/24",
                          "10.42.0.0/2x", "fd00::/129", "host/24"}) {
    INFO(bad);
    Status s = ValidateCidr(bad);
    CHECK(s.code() == StatusCode::kInvalidArgument);
    CHECK(Contains(s.message(), bad));
  }
}

TEST_CASE("ValidateOptions rejects what containerd or CNI would choke on") {
  CHECK(ValidateOptions(Options()).ok());
  ContainerdOptions o = Options();
  o.pod_cidr = "";  // allowed: the network list comes later
  CHECK(ValidateOptions(o).ok());

  o = Options();
  o.dir = "relative/agent";
  CHECK(ValidateOptions(o).code() == StatusCode::kInvalidArgument);

  o = Options();
  o.dir = "/" + std::string(100, 'd');  // the socket path would not fit in sun_path
  Status s = ValidateOptions(o);
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(Contains(s.message(), "containerd.sock"));

  o = Options();
  o.bridge_name = "a-very-long-bridge";  // 18 > IFNAMSIZ - 1
  CHECK(ValidateOptions(o).code() == StatusCode::kInvalidArgument);
  o.bridge_name = "";
  CHECK(ValidateOptions(o).code() == StatusCode::kInvalidArgument);

  o = Options();
  o.pod_cidr = "10.42.3.0";
  CHECK(ValidateOptions(o).code() == StatusCode::kInvalidArgument);

  o = Options();
  o.start_timeout = std::chrono::seconds(0);
  CHECK(ValidateOptions(o).code() == StatusCode::kInvalidArgument);
}

TEST_CASE("ContainerdPaths lays out the agent folder") {
  ContainerdPaths p("/d/agent");
  CHECK(p.config == "/d/agent/containerd/config.toml");
  CHECK(p.root == "/d/agent/containerd/root");
  CHECK(p.state == "/d/agent/containerd/state");
  CHECK(p.runc_root == "/d/agent/containerd/state/runc");
  CHECK(p.socket == "/d/agent/containerd.sock");
  CHECK(p.pid_file == "/d/agent/containerd/containerd.pid");
  CHECK(p.log == "/d/agent/containerd/containerd.log");
  CHECK(p.conflist == "/d/agent/cni/10-kite.conflist");
  CHECK(p.ipam_dir == "/d/agent/cni/ipam");
  CHECK(p.registry_hosts == "/d/agent/certs.d");
}

TEST_CASE("config.toml: own root, state, socket, runc root, CNI folder; OOM follows the host") {
  HostFacts without_cap{.cgroup_v2 = false, .cap_sys_resource = false};
  std::string t = ContainerdConfigToml(Options(), without_cap);
  CHECK(Contains(t, "version = 2\n"));
  CHECK(Contains(t, "root = \"/var/lib/kite/agent/containerd/root\"\n"));
  CHECK(Contains(t, "state = \"/var/lib/kite/agent/containerd/state\"\n"));
  CHECK(Contains(t, "[grpc]\n  address = \"/var/lib/kite/agent/containerd.sock\"\n"));
  CHECK(Contains(t, "sandbox_image = \"kite.local/pause:1\"\n"));
  CHECK(Contains(t, "restrict_oom_score_adj = true\n"));
  CHECK(Contains(t, "snapshotter = \"overlayfs\"\n"));
  CHECK(Contains(t, "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n"
                    "        Root = \"/var/lib/kite/agent/containerd/state/runc\"\n"
                    "        SystemdCgroup = false\n"));
  CHECK(Contains(t, "bin_dir = \"/usr/lib/cni\"\n"));
  CHECK(Contains(t, "conf_dir = \"/var/lib/kite/agent/cni\"\n"));
  CHECK(Contains(t, "stream_server_address = \"127.0.0.1\"\n"));
  CHECK(Contains(t, "stream_server_port = \"0\"\n"));
  CHECK(Contains(t, "  [plugins.\"io.containerd.grpc.v1.cri\".registry]\n"
                    "    config_path = \"/var/lib/kite/agent/certs.d\"\n"));

  HostFacts with_cap{.cgroup_v2 = true, .cap_sys_resource = true};
  std::string t2 = ContainerdConfigToml(Options(), with_cap);
  CHECK(Contains(t2, "restrict_oom_score_adj = false\n"));
  CHECK_FALSE(Contains(t2, "restrict_oom_score_adj = true"));
}

TEST_CASE("config.toml escapes quotes and backslashes in paths") {
  ContainerdOptions o = Options();
  o.dir = "/tmp/we\"ird\\dir";
  std::string t = ContainerdConfigToml(o, HostFacts{});
  CHECK(Contains(t, "root = \"/tmp/we\\\"ird\\\\dir/containerd/root\"\n"));
}

TEST_CASE("CNI conflist: bridge with host-local on the pod CIDR, portmap, loopback") {
  std::string text = CniConflistJson(Options(), "10.42.3.0/24");
  rapidjson::Document d;
  d.Parse(text.c_str());
  REQUIRE_FALSE(d.HasParseError());
  CHECK(std::string(d["cniVersion"].GetString()) == "0.4.0");
  CHECK(std::string(d["name"].GetString()) == "kite");
  const auto& plugins = d["plugins"];
  REQUIRE(plugins.Size() == 3);
  const auto& bridge = plugins[0];
  CHECK(std::string(bridge["type"].GetString()) == "bridge");
  CHECK(std::string(bridge["bridge"].GetString()) == "kt42");
  CHECK(bridge["isGateway"].GetBool());
  CHECK(bridge["ipMasq"].GetBool());
  CHECK(bridge["hairpinMode"].GetBool());
  const auto& ipam = bridge["ipam"];
  CHECK(std::string(ipam["type"].GetString()) == "host-local");
  CHECK(std::string(ipam["ranges"][0][0]["subnet"].GetString()) == "10.42.3.0/24");
  CHECK(std::string(ipam["routes"][0]["dst"].GetString()) == "0.0.0.0/0");
  CHECK(std::string(ipam["dataDir"].GetString()) == "/var/lib/kite/agent/cni/ipam");
  CHECK(std::string(plugins[1]["type"].GetString()) == "portmap");
  CHECK(plugins[1]["capabilities"]["portMappings"].GetBool());
  CHECK(std::string(plugins[2]["type"].GetString()) == "loopback");

  rapidjson::Document v6;
  v6.Parse(CniConflistJson(Options(), "fd00:42::/64").c_str());
  REQUIRE_FALSE(v6.HasParseError());
  CHECK(std::string(v6["plugins"][0]["ipam"]["routes"][0]["dst"].GetString()) == "::/0");
}

TEST_CASE("ParseCapEff reads the effective capability mask") {
  std::string status =
      "Name:\tkite\nCapInh:\t0000000000000000\nCapPrm:\t000001fffeffffff\n"
      "CapEff:\t000001fffeffffff\nCapBnd:\t000001ffffffffff\n";
  auto caps = ParseCapEff(status);
  REQUIRE(caps.has_value());
  CHECK(*caps == 0x000001fffeffffffULL);
  CHECK(((*caps >> kCapSysResource) & 1) == 0);  // this machine's twin: no CAP_SYS_RESOURCE
  auto full = ParseCapEff("CapEff:\t000001ffffffffff\n");
  REQUIRE(full.has_value());
  CHECK(((*full >> kCapSysResource) & 1) == 1);
  CHECK_FALSE(ParseCapEff("Name:\tx\n").has_value());
  CHECK_FALSE(ParseCapEff("CapEff:\tnot-hex\n").has_value());
  CHECK_FALSE(ParseCapEff("CapEff:\t\n").has_value());
}

TEST_CASE("DetectHostFacts agrees with the kernel's view of this process") {
  HostFacts facts = DetectHostFacts();
  CHECK(facts.cgroup_v2 == IsCgroup2("/sys/fs/cgroup"));
  CHECK_FALSE(IsCgroup2("/proc"));
  CHECK(Contains(facts.Describe(), facts.cgroup_v2 ? "cgroup v2" : "cgroup v1"));
}

TEST_CASE("WriteFileAtomically replaces the file and reports failures") {
  char dir[] = "/tmp/kite-cfg-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  std::string path = std::string(dir) + "/f";
  REQUIRE(WriteFileAtomically(path, "one").ok());
  REQUIRE(WriteFileAtomically(path, "two").ok());
  FILE* f = std::fopen(path.c_str(), "r");
  REQUIRE(f != nullptr);
  char buf[16] = {};
  size_t n = std::fread(buf, 1, sizeof(buf), f);
  std::fclose(f);
  CHECK(std::string(buf, n) == "two");
  CHECK(WriteFileAtomically(std::string(dir) + "/missing/f", "x").code() == StatusCode::kIoError);
  std::remove(path.c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace kite::containerd
