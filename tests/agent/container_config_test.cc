// Container and sandbox configs from the pod spec, against a fake PodObjects.
#include "src/agent/container_config.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "src/server/json/json_util.h"
#include "tests/testing/temp_dir.h"

namespace kite::agent {
namespace {

namespace fs = std::filesystem;

rapidjson::Document Parse(std::string_view text) {
  auto doc = json::ParseJson(text);
  if (!doc.ok()) FAIL(doc.status().message());
  return std::move(doc).value();
}

std::string Read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A pod with one container `c` (the given JSON members) and extra spec members.
rapidjson::Document Pod(std::string_view container, std::string_view spec = "", std::string_view ns = "shop") {
  return Parse(R"({"metadata":{"name":"web-1","namespace":")" + std::string(ns) +
               R"(","uid":"u-1","labels":{"app":"web"}},"spec":{"nodeName":"node-a",)" + std::string(spec) +
               R"("containers":[{"name":"c","image":"busybox")" + (container.empty() ? "" : ",") + std::string(container) +
               "}]}}");
}

const rapidjson::Value& First(const rapidjson::Document& pod) { return (*json::Member(*json::Member(pod, "spec"), "containers"))[0]; }

struct Env {
  FakePodObjects objects;
  ContainerContext context;
  Env() {
    context.objects = &objects;
    context.pod_ips = {"10.42.0.9"};
    context.host_ips = {"172.16.0.1"};
    context.node = {4000, 8LL << 30, 50LL << 30};
    REQUIRE(objects.Put("Service", R"({"metadata":{"name":"kubernetes","namespace":"default"},
      "spec":{"clusterIP":"10.43.0.1","ports":[{"name":"https","port":443,"protocol":"TCP"}]}})"));
  }
  EnvList Make(const rapidjson::Document& pod) {
    Result<EnvList> env = MakeEnvironment(pod, First(pod), context);
    if (!env.ok()) FAIL(env.status().message());
    return std::move(env).value();
  }
  std::string Error(const rapidjson::Document& pod) {
    Result<runtime::ContainerConfig> config = BuildContainerConfig(pod, First(pod), 0, context);
    REQUIRE_FALSE(config.ok());
    return config.status().message();
  }
};

std::map<std::string, std::string> AsMap(const EnvList& env) { return {env.begin(), env.end()}; }

std::vector<std::string> Names(const EnvList& env) {
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k);
  return out;
}

TEST_CASE("$(VAR) expansion as Kubernetes does it") {
  auto lookup = [](std::string_view name) -> std::optional<std::string> {
    if (name == "A") return std::string("alpha");
    if (name == "EMPTY") return std::string();
    return std::nullopt;
  };
  CHECK(ExpandVariables("$(A)", lookup) == "alpha");
  CHECK(ExpandVariables("x-$(A)-$(A)", lookup) == "x-alpha-alpha");
  CHECK(ExpandVariables("$(MISSING)", lookup) == "$(MISSING)");
  CHECK(ExpandVariables("$$(A)", lookup) == "$(A)");
  CHECK(ExpandVariables("$$$(A)", lookup) == "$alpha");
  CHECK(ExpandVariables("$(EMPTY)!", lookup) == "!");
  CHECK(ExpandVariables("$(A", lookup) == "$(A");
  CHECK(ExpandVariables("cost $5", lookup) == "cost $5");
  CHECK(ExpandVariables("end$", lookup) == "end$");
  CHECK(ExpandVariables("$()", lookup) == "$()");
  CHECK(ExpandVariables("", lookup) == "");
}

TEST_CASE("service link variables: the Docker-link family for every port") {
  auto svc = [](std::string_view text) {
    auto doc = json::ParseJson(text);
    REQUIRE(doc.ok());
    return std::make_shared<const rapidjson::Document>(std::move(doc).value());
  };
  EnvList env = ServiceLinkVariables({svc(R"({"metadata":{"name":"my-db.v1"},"spec":{"clusterIP":"10.43.0.5",
      "ports":[{"port":5432},{"name":"metrics","port":9187,"protocol":"UDP"}]}})"),
                                      svc(R"({"metadata":{"name":"headless"},"spec":{"clusterIP":"None","ports":[{"port":1}]}})"),
                                      svc(R"({"metadata":{"name":"9lives"},"spec":{"clusterIP":"fd00::5","ports":[{"port":80}]}})")});
  EnvList want = {{"MY_DB_V1_SERVICE_HOST", "10.43.0.5"},
                  {"MY_DB_V1_SERVICE_PORT", "5432"},
                  {"MY_DB_V1_SERVICE_PORT_METRICS", "9187"},
                  {"MY_DB_V1_PORT", "tcp://10.43.0.5:5432"},
                  {"MY_DB_V1_PORT_5432_TCP", "tcp://10.43.0.5:5432"},
                  {"MY_DB_V1_PORT_5432_TCP_PROTO", "tcp"},
                  {"MY_DB_V1_PORT_5432_TCP_PORT", "5432"},
                  {"MY_DB_V1_PORT_5432_TCP_ADDR", "10.43.0.5"},
                  {"MY_DB_V1_PORT_9187_UDP", "udp://10.43.0.5:9187"},
                  {"MY_DB_V1_PORT_9187_UDP_PROTO", "udp"},
                  {"MY_DB_V1_PORT_9187_UDP_PORT", "9187"},
                  {"MY_DB_V1_PORT_9187_UDP_ADDR", "10.43.0.5"},
                  {"_9LIVES_SERVICE_HOST", "fd00::5"},
                  {"_9LIVES_SERVICE_PORT", "80"},
                  {"_9LIVES_PORT", "tcp://[fd00::5]:80"},
                  {"_9LIVES_PORT_80_TCP", "tcp://[fd00::5]:80"},
                  {"_9LIVES_PORT_80_TCP_PROTO", "tcp"},
                  {"_9LIVES_PORT_80_TCP_PORT", "80"},
                  {"_9LIVES_PORT_80_TCP_ADDR", "fd00::5"}};
  CHECK(env == want);
}

TEST_CASE("env order: service links, then envFrom, then env; each name once") {
  Env e;
  REQUIRE(e.objects.Put("Service", R"({"metadata":{"name":"db","namespace":"shop"},
    "spec":{"clusterIP":"10.43.0.9","ports":[{"port":5432}]}})"));
  REQUIRE(e.objects.Put("Service", R"({"metadata":{"name":"elsewhere","namespace":"other"},
    "spec":{"clusterIP":"10.43.0.10","ports":[{"port":1}]}})"));
  REQUIRE(e.objects.Put("ConfigMap", R"({"metadata":{"name":"cfg","namespace":"shop"},
    "data":{"MODE":"prod","1bad":"x","LEVEL":"3","has.dot":"ok"}})"));
  REQUIRE(e.objects.Put("Secret", R"({"metadata":{"name":"creds","namespace":"shop"},"data":{"PASS":"czNjcjN0"}})"));
  rapidjson::Document pod = Pod(R"j("envFrom":[{"configMapRef":{"name":"cfg"}},{"prefix":"S_","secretRef":{"name":"creds"}}],
    "env":[{"name":"LEVEL","value":"9"},{"name":"URL","value":"http://$(DB_SERVICE_HOST):$(DB_SERVICE_PORT)/$(MODE)"},
           {"name":"DB_SERVICE_PORT","value":"6000"},{"name":"LATER","value":"$(URL)+$(NOPE)+$$(MODE)"}])j");
  EnvList env = e.Make(pod);
  std::map<std::string, std::string> m = AsMap(env);
  CHECK(env.size() == m.size());  // no duplicates
  // Service links first (sorted), without the one env redefines; then envFrom, then env.
  std::vector<std::string> names = Names(env);
  std::vector<std::string> want = {"DB_PORT",     "DB_PORT_5432_TCP",  "DB_PORT_5432_TCP_ADDR", "DB_PORT_5432_TCP_PORT",
                                   "DB_PORT_5432_TCP_PROTO", "DB_SERVICE_HOST", "KUBERNETES_PORT",
                                   "KUBERNETES_PORT_443_TCP", "KUBERNETES_PORT_443_TCP_ADDR",
                                   "KUBERNETES_PORT_443_TCP_PORT", "KUBERNETES_PORT_443_TCP_PROTO",
                                   "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "KUBERNETES_SERVICE_PORT_HTTPS",
                                   "LEVEL", "MODE", "has.dot", "S_PASS", "URL", "DB_SERVICE_PORT", "LATER"};
  CHECK(names == want);
  CHECK(m["LEVEL"] == "9");  // env overrides envFrom, in envFrom's place
  CHECK(m["S_PASS"] == "s3cr3t");
  CHECK(m.count("1bad") == 0);
  CHECK(m["URL"] == "http://10.43.0.9:5432/prod");  // the service's port: env's own comes later
  CHECK(m["DB_SERVICE_PORT"] == "6000");
  CHECK(m["LATER"] == "http://10.43.0.9:5432/prod+$(NOPE)+$(MODE)");
  CHECK(m["KUBERNETES_SERVICE_HOST"] == "10.43.0.1");
  CHECK(m["KUBERNETES_SERVICE_PORT_HTTPS"] == "443");
  CHECK(m.count("ELSEWHERE_SERVICE_HOST") == 0);

  // enableServiceLinks false: only the kubernetes service.
  rapidjson::Document quiet = Pod(R"("env":[{"name":"A","value":"1"}])", R"("enableServiceLinks":false,)");
  m = AsMap(e.Make(quiet));
  CHECK(m.count("DB_SERVICE_HOST") == 0);
  CHECK(m["KUBERNETES_SERVICE_HOST"] == "10.43.0.1");
  CHECK(m["A"] == "1");
}

TEST_CASE("env valueFrom: configMapKeyRef, secretKeyRef, fieldRef, resourceFieldRef") {
  Env e;
  REQUIRE(e.objects.Put("ConfigMap", R"({"metadata":{"name":"cfg","namespace":"shop"},"data":{"k":"v"}})"));
  REQUIRE(e.objects.Put("Secret", R"({"metadata":{"name":"s","namespace":"shop"},"data":{"token":"dG9r"}})"));
  rapidjson::Document pod = Pod(R"("resources":{"requests":{"cpu":"250m","memory":"100Mi"},"limits":{"memory":"200Mi"}},
    "env":[{"name":"CM","valueFrom":{"configMapKeyRef":{"name":"cfg","key":"k"}}},
           {"name":"SEC","valueFrom":{"secretKeyRef":{"name":"s","key":"token"}}},
           {"name":"OPT1","valueFrom":{"configMapKeyRef":{"name":"cfg","key":"absent","optional":true}}},
           {"name":"OPT2","valueFrom":{"secretKeyRef":{"name":"gone","key":"x","optional":true}}},
           {"name":"POD","valueFrom":{"fieldRef":{"apiVersion":"v1","fieldPath":"metadata.name"}}},
           {"name":"NS","valueFrom":{"fieldRef":{"fieldPath":"metadata.namespace"}}},
           {"name":"IP","valueFrom":{"fieldRef":{"fieldPath":"status.podIP"}}},
           {"name":"HOST","valueFrom":{"fieldRef":{"fieldPath":"status.hostIP"}}},
           {"name":"NODE","valueFrom":{"fieldRef":{"fieldPath":"spec.nodeName"}}},
           {"name":"APP","valueFrom":{"fieldRef":{"fieldPath":"metadata.labels['app']"}}},
           {"name":"CPU_REQ","valueFrom":{"resourceFieldRef":{"resource":"requests.cpu","divisor":"1m"}}},
           {"name":"CPU_LIM","valueFrom":{"resourceFieldRef":{"resource":"limits.cpu"}}},
           {"name":"MEM_LIM","valueFrom":{"resourceFieldRef":{"containerName":"c","resource":"limits.memory","divisor":"1Mi"}}},
           {"name":"PLAIN","value":""}])");
  std::map<std::string, std::string> m = AsMap(e.Make(pod));
  CHECK(m["CM"] == "v");
  CHECK(m["SEC"] == "tok");
  CHECK(m.count("OPT1") == 0);
  CHECK(m.count("OPT2") == 0);
  CHECK(m["POD"] == "web-1");
  CHECK(m["NS"] == "shop");
  CHECK(m["IP"] == "10.42.0.9");
  CHECK(m["HOST"] == "172.16.0.1");
  CHECK(m["NODE"] == "node-a");
  CHECK(m["APP"] == "web");
  CHECK(m["CPU_REQ"] == "250");
  CHECK(m["CPU_LIM"] == "4");  // no limit: the node's allocatable
  CHECK(m["MEM_LIM"] == "200");
  CHECK(m["PLAIN"] == "");
}

TEST_CASE("env errors read as the kubelet's CreateContainerConfigError messages") {
  Env e;
  REQUIRE(e.objects.Put("ConfigMap", R"({"metadata":{"name":"cfg","namespace":"shop"},"data":{"k":"v"}})"));
  REQUIRE(e.objects.Put("Secret", R"({"metadata":{"name":"s","namespace":"shop"},"data":{}})"));
  CHECK(e.Error(Pod(R"("env":[{"name":"X","valueFrom":{"configMapKeyRef":{"name":"x","key":"k"}}}])")) ==
        "configmap \"x\" not found");
  CHECK(e.Error(Pod(R"("env":[{"name":"X","valueFrom":{"configMapKeyRef":{"name":"cfg","key":"nope"}}}])")) ==
        "couldn't find key nope in ConfigMap shop/cfg");
  CHECK(e.Error(Pod(R"("env":[{"name":"X","valueFrom":{"secretKeyRef":{"name":"s","key":"k"}}}])")) ==
        "couldn't find key k in Secret shop/s");
  CHECK(e.Error(Pod(R"("envFrom":[{"secretRef":{"name":"missing"}}])")) == "secret \"missing\" not found");
  CHECK(e.Error(Pod(R"("env":[{"name":"X","valueFrom":{"fieldRef":{"fieldPath":"spec.bogus"}}}])")) ==
        "unsupported fieldPath: spec.bogus");
  CHECK(e.Error(Pod(R"("env":[{"name":"X","valueFrom":{"resourceFieldRef":{"containerName":"ghost","resource":"limits.cpu"}}}])")) ==
        "container ghost not found");
  // Optional envFrom sources that do not exist are fine.
  e.Make(Pod(R"("envFrom":[{"configMapRef":{"name":"missing","optional":true}}])"));
  // Without API objects at all.
  e.context.objects = nullptr;
  CHECK(e.Error(Pod(R"("envFrom":[{"configMapRef":{"name":"cfg"}}])")) ==
        "couldn't get configMap shop/cfg, no kubeClient defined");
}

TEST_CASE("command and args expand from the final env") {
  Env e;
  rapidjson::Document pod = Pod(R"j("command":["/bin/sh","-c","echo $(GREETING) $(UNSET) $$(GREETING)"],
    "args":["$(KUBERNETES_SERVICE_HOST)"],"workingDir":"/srv","tty":true,"stdin":true,"stdinOnce":true,
    "env":[{"name":"GREETING","value":"hi"}])j");
  Result<runtime::ContainerConfig> config = BuildContainerConfig(pod, First(pod), 3, e.context);
  REQUIRE(config.ok());
  CHECK(config->command == std::vector<std::string>{"/bin/sh", "-c", "echo hi $(UNSET) $(GREETING)"});
  CHECK(config->args == std::vector<std::string>{"10.43.0.1"});
  CHECK(config->working_dir == "/srv");
  CHECK(config->tty);
  CHECK(config->stdin_open);
  CHECK(config->stdin_once);
  CHECK(config->metadata.name == "c");
  CHECK(config->metadata.attempt == 3);
  CHECK(config->image == "busybox");
  CHECK(config->log_path == "c/3.log");
  CHECK(config->labels.at(runtime::kPodUidLabel) == "u-1");
  CHECK(config->labels.at(runtime::kContainerNameLabel) == "c");
  CHECK(config->annotations.at("io.kubernetes.container.restartCount") == "3");
  CHECK(config->annotations.at("io.kubernetes.container.terminationMessagePath") == "/dev/termination-log");
}

TEST_CASE("resources: shares, quota and period, memory limit, OOM score by QoS class") {
  const int64_t capacity = 8LL << 30;
  rapidjson::Document burstable = Pod(R"("resources":{"requests":{"cpu":"250m","memory":"2Gi"},"limits":{"cpu":"1500m","memory":"4Gi"}})");
  runtime::LinuxResources r = ContainerResources(burstable, First(burstable), capacity);
  CHECK(r.cpu_shares == 256);
  CHECK(r.cpu_period == 100000);
  CHECK(r.cpu_quota == 150000);
  CHECK(r.memory_limit_in_bytes == 4LL << 30);
  CHECK(r.oom_score_adj == 750);  // 1000 - 1000 * 2Gi / 8Gi

  rapidjson::Document guaranteed = Pod(R"("resources":{"limits":{"cpu":"2","memory":"1Gi"}})");
  r = ContainerResources(guaranteed, First(guaranteed), capacity);
  CHECK(r.cpu_shares == 2048);  // the limit stands in for the request
  CHECK(r.cpu_quota == 200000);
  CHECK(r.oom_score_adj == -997);

  rapidjson::Document best = Pod("");
  r = ContainerResources(best, First(best), capacity);
  CHECK(r.cpu_shares == 2);
  CHECK(r.cpu_quota == 0);
  CHECK(r.cpu_period == 100000);
  CHECK(r.memory_limit_in_bytes == 0);
  CHECK(r.oom_score_adj == 1000);

  rapidjson::Document tiny = Pod(R"("resources":{"requests":{"cpu":"1m","memory":"1"},"limits":{"cpu":"1m"}})");
  r = ContainerResources(tiny, First(tiny), capacity);
  CHECK(r.cpu_shares == 2);
  CHECK(r.cpu_quota == 1000);  // the minimum quota
  CHECK(r.oom_score_adj == 999);  // Burstable stays below BestEffort

  rapidjson::Document hungry = Pod(R"("resources":{"requests":{"memory":"16Gi"}})");
  CHECK(OomScoreAdjust(hungry, First(hungry), capacity) == 3);
  rapidjson::Document critical = Pod("", R"("priorityClassName":"system-node-critical",)");
  CHECK(OomScoreAdjust(critical, First(critical), capacity) == -997);
}

TEST_CASE("security: pod and container contexts merged") {
  rapidjson::Document pod = Pod(R"("securityContext":{"runAsUser":2000,"readOnlyRootFilesystem":true,"privileged":true,
      "capabilities":{"add":["NET_ADMIN"],"drop":["ALL"]}})",
                                R"("securityContext":{"runAsUser":1000,"runAsGroup":3000,"fsGroup":4000,"supplementalGroups":[5,6]},)");
  Result<runtime::SecurityContext> sc = ContainerSecurity(pod, First(pod));
  REQUIRE(sc.ok());
  CHECK(sc->run_as_user == 2000);  // the container's wins
  CHECK(sc->run_as_group == 3000);  // the pod's fills in
  CHECK(sc->supplemental_groups == std::vector<int64_t>{4000, 5, 6});
  CHECK(sc->readonly_rootfs);
  CHECK(sc->privileged);
  CHECK(sc->add_capabilities == std::vector<std::string>{"NET_ADMIN"});
  CHECK(sc->drop_capabilities == std::vector<std::string>{"ALL"});

  rapidjson::Document plain = Pod("");
  sc = ContainerSecurity(plain, First(plain));
  REQUIRE(sc.ok());
  CHECK_FALSE(sc->run_as_user.has_value());
  CHECK_FALSE(sc->privileged);

  rapidjson::Document contradiction = Pod(R"("securityContext":{"runAsUser":0})", R"("securityContext":{"runAsNonRoot":true},)");
  sc = ContainerSecurity(contradiction, First(contradiction));
  REQUIRE_FALSE(sc.ok());
  CHECK(sc.status().message() == "container's runAsUser breaks non-root policy (pod: \"web-1_shop(u-1)\", container: c)");
}

TEST_CASE("mounts: volumes, subPath, propagation, /etc/hosts and the termination message file") {
  testing::TempDir tmp;
  Env e;
  std::string pod_dir = tmp.file("pods/u-1");
  fs::create_directories(pod_dir);
  fs::create_directories(tmp.file("vol/data"));
  volumes::VolumeMap vols{{"data", {tmp.file("vol/data"), false}}, {"cfg", {tmp.file("vol/cfg"), true}}};
  fs::create_directories(tmp.file("vol/cfg"));
  e.context.volumes = &vols;
  e.context.pod_dir = pod_dir;
  rapidjson::Document pod = Pod(R"j("volumeMounts":[{"name":"data","mountPath":"/data"},
      {"name":"data","mountPath":"/logs","subPath":"logs/app","mountPropagation":"HostToContainer"},
      {"name":"data","mountPath":"/per-pod","subPathExpr":"pods/$(POD)"},
      {"name":"cfg","mountPath":"/etc/cfg"},
      {"name":"data","mountPath":"/ro","readOnly":true}],
    "env":[{"name":"POD","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}}],
    "terminationMessagePath":"/tmp/why")j",
                                R"("hostname":"web","subdomain":"pool","hostAliases":[{"ip":"10.0.0.1","hostnames":["a","b"]}],)");
  Result<runtime::ContainerConfig> config = BuildContainerConfig(pod, First(pod), 2, e.context);
  REQUIRE(config.ok());
  const std::vector<runtime::Mount>& m = config->mounts;
  REQUIRE(m.size() == 7);
  CHECK(m[0].container_path == "/data");
  CHECK(m[0].host_path == tmp.file("vol/data"));
  CHECK_FALSE(m[0].readonly);
  CHECK(m[0].propagation == runtime::MountPropagation::kPrivate);
  CHECK(m[1].host_path == fs::canonical(tmp.file("vol/data/logs/app")).string());
  CHECK(fs::is_directory(tmp.file("vol/data/logs/app")));  // created
  CHECK(m[1].propagation == runtime::MountPropagation::kHostToContainer);
  CHECK(m[2].host_path == fs::canonical(tmp.file("vol/data/pods/web-1")).string());
  CHECK(m[3].readonly);  // the volume is read-only
  CHECK(m[4].readonly);
  CHECK(m[5].container_path == "/etc/hosts");
  CHECK(m[5].host_path == pod_dir + "/etc-hosts");
  CHECK(Read(pod_dir + "/etc-hosts") ==
        "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        "fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n"
        "10.42.0.9\tweb.pool.shop.svc.cluster.local\tweb\n\n# Entries added by HostAliases.\n10.0.0.1\ta\tb\n");
  CHECK(m[6].container_path == "/tmp/why");
  CHECK(m[6].host_path == pod_dir + "/containers/c/2");
  struct stat st;
  REQUIRE(stat(m[6].host_path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0666);
  CHECK(st.st_size == 0);

  // A symlink in the volume must not lead a subPath out of it.
  fs::create_symlink("/etc", tmp.file("vol/data/escape"));
  rapidjson::Document evil = Pod(R"("volumeMounts":[{"name":"data","mountPath":"/x","subPath":"escape"}])");
  CHECK(e.Error(evil) == "failed to prepare subPath for volumeMount \"data\" of container \"c\"");
  CHECK(e.Error(Pod(R"("volumeMounts":[{"name":"data","mountPath":"/x","subPath":"../up"}])")) ==
        "unable to provision SubPath `../up`: must not contain '..'");
  CHECK(e.Error(Pod(R"("volumeMounts":[{"name":"data","mountPath":"/x","subPath":"/abs"}])")) ==
        "error SubPath `/abs` must not be an absolute path");
  CHECK(e.Error(Pod(R"j("volumeMounts":[{"name":"data","mountPath":"/x","subPathExpr":"$(NOPE)"}])j")) ==
        "missing value for NOPE");
  CHECK(e.Error(Pod(R"("volumeMounts":[{"name":"other","mountPath":"/x"}])")) ==
        "cannot find volume \"other\" to mount into container \"c\"");
  CHECK(e.Error(Pod(R"("volumeMounts":[{"name":"data","mountPath":"/x","mountPropagation":"Bidirectional"}])")) ==
        "Bidirectional mount propagation is available only to privileged containers");

  // A container that mounts its own /etc/hosts gets none from the kubelet; no pod dir, no files.
  rapidjson::Document own = Pod(R"("volumeMounts":[{"name":"data","mountPath":"/etc/hosts","subPath":"hosts"}],"terminationMessagePath":"")");
  config = BuildContainerConfig(own, First(own), 0, e.context);
  REQUIRE(config.ok());
  REQUIRE(config->mounts.size() == 1);
  e.context.pod_dir.clear();
  e.context.volumes = nullptr;  // simulated node: volume mounts left out
  config = BuildContainerConfig(pod, First(pod), 0, e.context);
  REQUIRE(config.ok());
  CHECK(config->mounts.empty());
}

TEST_CASE("hostNetwork pods get the node's hosts file with the managed header") {
  testing::TempDir tmp;
  Env e;
  e.context.pod_dir = tmp.path().string();
  e.context.pod_ips.clear();
  rapidjson::Document pod = Pod("", R"("hostNetwork":true,)");
  Result<runtime::ContainerConfig> config = BuildContainerConfig(pod, First(pod), 0, e.context);
  REQUIRE(config.ok());
  REQUIRE(config->mounts.size() == 2);
  std::string hosts = Read(tmp.file("etc-hosts"));
  const std::string header = "# Kubernetes-managed hosts file (host network).\n";
  CHECK(hosts.rfind(header, 0) == 0);
  CHECK(hosts.substr(header.size()) == Read("/etc/hosts"));
}

TEST_CASE("sandbox config: hostname, log directory, DNS, ports, host network") {
  testing::TempDir tmp;
  std::ofstream(tmp.file("resolv.conf")) << "# comment\nnameserver 127.0.0.53\nnameserver 192.168.1.1\n"
                                         << "search lan example.com\noptions edns0 ndots:2\n";
  SandboxContext context;
  context.agent_dir = "/data/agent";
  context.host_dns = ReadResolvConf(tmp.file("resolv.conf"));
  CHECK(context.host_dns.servers == std::vector<std::string>{"192.168.1.1"});  // loopback dropped
  CHECK(context.host_dns.searches == std::vector<std::string>{"lan", "example.com"});
  CHECK(context.host_dns.options == std::vector<std::string>{"edns0", "ndots:2"});

  rapidjson::Document pod = Parse(R"({"metadata":{"name":"web-1","namespace":"shop","uid":"u-1",
    "labels":{"app":"web"},"annotations":{"a":"b"}},"spec":{
    "dnsConfig":{"nameservers":["1.1.1.1"],"searches":["lan","svc.local"],"options":[{"name":"ndots","value":"5"},{"name":"rotate"}]},
    "containers":[{"name":"c","ports":[{"containerPort":80,"hostPort":8080},{"containerPort":53,"protocol":"UDP"}]},
                  {"name":"d","ports":[{"containerPort":9000,"hostPort":9000,"hostIP":"127.0.0.1"}]}]}})");
  runtime::PodSandboxConfig config = BuildSandboxConfig(pod, context);
  CHECK(config.metadata.name == "web-1");
  CHECK(config.metadata.namespace_ == "shop");
  CHECK(config.metadata.uid == "u-1");
  CHECK(config.hostname == "web-1");
  CHECK(config.log_directory == "/data/agent/pod-logs/shop_web-1_u-1");
  CHECK(config.dns.servers == std::vector<std::string>{"192.168.1.1", "1.1.1.1"});
  CHECK(config.dns.searches == std::vector<std::string>{"lan", "example.com", "svc.local"});
  CHECK(config.dns.options == std::vector<std::string>{"edns0", "ndots:5", "rotate"});
  REQUIRE(config.port_mappings.size() == 3);
  CHECK(config.port_mappings[0].container_port == 80);
  CHECK(config.port_mappings[0].host_port == 8080);
  CHECK(config.port_mappings[0].protocol == "TCP");
  CHECK(config.port_mappings[1].protocol == "UDP");
  CHECK(config.port_mappings[1].host_port == 0);
  CHECK(config.port_mappings[2].host_ip == "127.0.0.1");
  CHECK_FALSE(config.host_network);
  CHECK(config.labels.at("app") == "web");
  CHECK(config.labels.at(runtime::kPodUidLabel) == "u-1");
  CHECK(config.annotations.at("a") == "b");

  rapidjson::Document host = Parse(R"({"metadata":{"name":")" + std::string(70, 'x') +
                                   R"(","namespace":"ns","uid":"u"},"spec":{"hostNetwork":true,"dnsPolicy":"None"}})");
  config = BuildSandboxConfig(host, context);
  CHECK(config.host_network);
  CHECK(config.hostname.empty());
  CHECK(config.dns.servers.empty());
  host = Parse(R"({"metadata":{"name":")" + std::string(62, 'x') + R"(-yy","namespace":"ns","uid":"u"},"spec":{}})");
  config = BuildSandboxConfig(host, context);
  CHECK(config.hostname == std::string(62, 'x'));  // cut to 63, trailing '-' dropped
  CHECK(BuildSandboxConfig(host, SandboxContext{}).log_directory.empty());
}

}  // namespace
}  // namespace kite::agent
