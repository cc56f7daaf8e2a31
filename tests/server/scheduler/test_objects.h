// Plain Node and Pod objects for the scheduler's unit tests.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "src/server/json/json_util.h"
#include "src/server/scheduler/node_info.h"
#include "src/server/scheduler/pod_info.h"

namespace kite::scheduler::testing {

inline ObjectPtr Object(std::string_view json_text) {
  auto doc = json::ParseJson(json_text);
  INFO(json_text);
  REQUIRE(doc.ok());
  return std::make_shared<const rapidjson::Document>(std::move(doc).value());
}

inline PodInfoPtr Pod(std::string_view json_text) { return PodInfo::Parse(Object(json_text)); }

// A pod "ns/name" with one container requesting `cpu` and `memory` ("" = no request),
// `labels` a JSON object and `spec_extra` extra members of spec (",\"nodeName\":\"n1\"").
inline std::string PodJson(std::string_view name, std::string_view cpu = "", std::string_view memory = "",
                           std::string_view labels = "{}", std::string_view spec_extra = "",
                           std::string_view ns = "default") {
  std::string requests;
  if (!cpu.empty()) requests += "\"cpu\":\"" + std::string(cpu) + "\"";
  if (!memory.empty()) requests += std::string(requests.empty() ? "" : ",") + "\"memory\":\"" + std::string(memory) + "\"";
  return "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"" + std::string(name) +
         "\",\"namespace\":\"" + std::string(ns) + "\",\"uid\":\"uid-" + std::string(name) +
         "\",\"labels\":" + std::string(labels) +
         "},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\",\"resources\":{\"requests\":{" +
         requests + "}}}]" + std::string(spec_extra) + "}}";
}

// A node with allocatable cpu/memory/pods, `labels` (a JSON object, the hostname label is
// added) and `spec` (a JSON object).
inline std::string NodeJson(std::string_view name, std::string_view cpu = "4", std::string_view memory = "8Gi",
                            std::string_view labels = "{}", std::string_view spec = "{}", int pods = 110) {
  std::string l(labels);
  std::string hostname = "\"kubernetes.io/hostname\":\"" + std::string(name) + "\"";
  l = l == "{}" ? "{" + hostname + "}" : "{" + hostname + "," + l.substr(1);
  return "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"" + std::string(name) +
         "\",\"labels\":" + l + "},\"spec\":" + std::string(spec) +
         ",\"status\":{\"allocatable\":{\"cpu\":\"" + std::string(cpu) + "\",\"memory\":\"" + std::string(memory) +
         "\",\"pods\":\"" + std::to_string(pods) +
         "\"},\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}";
}

inline NodeInfo Node(std::string_view json_text) { return NodeInfo::FromNode(Object(json_text)); }

// `pod_json` placed on `node`.
inline void Place(NodeInfo& node, std::string_view pod_json) { node.AddPod(Pod(pod_json)->OnNode(node.name())); }

}  // namespace kite::scheduler::testing
