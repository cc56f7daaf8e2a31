#include <catch2/catch.hpp>

#include "src/agent/prober/probe_spec.h"
#include "src/server/json/json_util.h"

namespace kite::agent::prober {
namespace {

rapidjson::Document Doc(std::string_view text) {
  auto doc = json::ParseJson(text);
  REQUIRE(doc.ok());
  return std::move(doc).value();
}

TEST_CASE("probe defaults: timeout 1, period 10, success 1, failure 3, no delay") {
  auto probe = Doc(R"({"exec":{"command":["true"]}})");
  std::optional<ProbeSpec> spec = ParseProbe(&probe);
  REQUIRE(spec);
  CHECK(spec->action.kind == ActionKind::kExec);
  CHECK(spec->action.command == std::vector<std::string>{"true"});
  CHECK(spec->timeout_seconds == 1);
  CHECK(spec->period_seconds == 10);
  CHECK(spec->success_threshold == 1);
  CHECK(spec->failure_threshold == 3);
  CHECK(spec->initial_delay_seconds == 0);
  CHECK_FALSE(spec->termination_grace_period_seconds);

  auto zeros = Doc(R"({"tcpSocket":{"port":80},"timeoutSeconds":0,"periodSeconds":-1,"failureThreshold":"x",)"
                   R"("initialDelaySeconds":7,"successThreshold":2,"terminationGracePeriodSeconds":3})");
  spec = ParseProbe(&zeros);
  REQUIRE(spec);
  CHECK(spec->timeout_seconds == 1);
  CHECK(spec->period_seconds == 10);
  CHECK(spec->failure_threshold == 3);
  CHECK(spec->initial_delay_seconds == 7);
  CHECK(spec->success_threshold == 2);
  CHECK(spec->termination_grace_period_seconds == 3);
  CHECK_FALSE(ParseProbe(nullptr));
  auto not_object = Doc("[]");
  CHECK_FALSE(ParseProbe(&not_object));
}

TEST_CASE("actions: httpGet, tcpSocket, grpc, sleep; unknown is none") {
  auto http = Doc(R"({"httpGet":{"path":"/h","port":"web","host":"1.2.3.4","scheme":"HTTPS",)"
                  R"("httpHeaders":[{"name":"X-A","value":"1"},{"name":"","value":"dropped"}]}})");
  Action a = ParseAction(http);
  CHECK(a.kind == ActionKind::kHttpGet);
  CHECK(a.http.path == "/h");
  CHECK(a.http.port.name == "web");
  CHECK(a.http.host == "1.2.3.4");
  CHECK(a.http.scheme == "HTTPS");
  REQUIRE(a.http.headers.size() == 1);
  CHECK(a.http.headers[0] == std::pair<std::string, std::string>{"X-A", "1"});

  a = ParseAction(Doc(R"({"tcpSocket":{"port":6379}})"));
  CHECK(a.kind == ActionKind::kTcpSocket);
  CHECK(a.port.number == 6379);
  a = ParseAction(Doc(R"({"grpc":{"port":9000,"service":"s"}})"));
  CHECK(a.kind == ActionKind::kGrpc);
  CHECK(a.grpc_service == "s");
  a = ParseAction(Doc(R"({"sleep":{"seconds":4}})"));
  CHECK(a.kind == ActionKind::kSleep);
  CHECK(a.sleep_seconds == 4);
  CHECK(ParseAction(Doc(R"({"exec":"nope"})")).kind == ActionKind::kNone);
}

TEST_CASE("ports resolve by number or by the container's port name") {
  auto container = Doc(R"({"name":"app","ports":[{"name":"web","containerPort":8080},{"containerPort":9}],)"
                       R"("readinessProbe":{"httpGet":{"port":"web"}}})");
  std::map<std::string, int64_t> named = NamedPorts(container);
  CHECK(named == std::map<std::string, int64_t>{{"web", 8080}});
  CHECK(*ResolvePort({0, "web"}, named, "app") == 8080);
  CHECK(*ResolvePort({443, ""}, named, "app") == 443);
  CHECK(ResolvePort({0, "nope"}, named, "app").status().message() == "couldn't find port: nope in app");
  CHECK(ResolvePort({0, ""}, named, "app").status().message() == "invalid port number: 0");
  CHECK(ResolvePort({65536, ""}, named, "app").status().message() == "invalid port number: 65536");
  CHECK(ContainerProbe(container, ProbeKind::kReadiness));
  CHECK_FALSE(ContainerProbe(container, ProbeKind::kLiveness));
}

}  // namespace
}  // namespace kite::agent::prober
