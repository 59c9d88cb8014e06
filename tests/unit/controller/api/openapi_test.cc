// schemas/openapi.yaml and the code describe the same API: every route in the route table is
// documented (and nothing else is), and the JSON views carry every property the schemas mark
// required.

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "controller/api/agent_json.h"
#include "controller/api/routes.h"
#include "controller/api/services_handler.h"
#include "tests/unit/controller/api/fake_state_view.h"

namespace noa::controller::api {
namespace {

using noa::testing::makeAgent;

class OpenApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    try {
      spec_ = YAML::LoadFile(NOA_OPENAPI_PATH);
    } catch (const YAML::Exception& e) {
      FAIL() << NOA_OPENAPI_PATH << ": " << e.what();
    }
    ASSERT_TRUE(spec_["paths"].IsMap());
  }

  std::vector<std::string> required(const std::string& schema) {
    std::vector<std::string> out;
    const YAML::Node node = spec_["components"]["schemas"][schema]["required"];
    EXPECT_TRUE(node.IsSequence()) << schema;
    for (const auto& item : node) out.push_back(item.as<std::string>());
    return out;
  }

  void expectRequiredPresent(const std::string& schema, const nlohmann::json& value) {
    for (const std::string& key : required(schema)) {
      EXPECT_TRUE(value.contains(key)) << schema << " requires '" << key << "'";
    }
  }

  YAML::Node spec_;
};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

TEST_F(OpenApiTest, EveryRouteIsDocumentedWithItsMethod) {
  for (const Route& route : routeTable()) {
    const YAML::Node path = spec_["paths"][std::string(route.path)];
    ASSERT_TRUE(path.IsMap()) << route.path << " is missing from openapi.yaml";
    EXPECT_TRUE(path[lower(route.method)].IsMap())
        << route.method << " " << route.path << " is missing from openapi.yaml";
    EXPECT_EQ(path[lower(route.method)]["summary"].as<std::string>(""), route.summary)
        << route.path;
  }
}

TEST_F(OpenApiTest, EveryOperationStatesItsRoleSecurityAndRefusals) {
  ASSERT_TRUE(spec_["components"]["securitySchemes"]["bearerAuth"].IsMap());
  EXPECT_EQ(spec_["components"]["securitySchemes"]["bearerAuth"]["scheme"].as<std::string>(""),
            "bearer");
  ASSERT_TRUE(spec_["security"].IsSequence());
  for (const Route& route : routeTable()) {
    const YAML::Node op = spec_["paths"][std::string(route.path)][lower(route.method)];
    ASSERT_TRUE(op.IsMap()) << route.path;
    const std::string where = std::string(route.method) + " " + std::string(route.path);
    EXPECT_EQ(op["x-noa-role"].as<std::string>(""), roleName(route.role)) << where;
    const YAML::Node responses = op["responses"];
    if (route.role == Role::kPublic) {
      EXPECT_TRUE(op["security"].IsSequence() && op["security"].size() == 0)
          << where << " is public: it needs `security: []`";
    } else {
      EXPECT_FALSE(op["security"].IsDefined()) << where << " uses the global bearer security";
      EXPECT_TRUE(responses["401"].IsDefined()) << where;
      EXPECT_TRUE(responses["403"].IsDefined()) << where;
    }
    if (route.mutates()) {
      EXPECT_TRUE(responses["429"].IsDefined()) << where;
    }
  }
}

TEST_F(OpenApiTest, EveryDocumentedOperationIsARoute) {
  const std::set<std::string> methods = {"get",   "put",  "post",    "delete",
                                         "patch", "head", "options", "trace"};
  for (const auto& path : spec_["paths"]) {
    for (const auto& op : path.second) {
      const std::string method = op.first.as<std::string>();
      if (!methods.count(method)) continue;
      const std::string where = path.first.as<std::string>();
      const bool found = std::any_of(routeTable().begin(), routeTable().end(), [&](const Route& r) {
        return r.path == where && lower(r.method) == method;
      });
      EXPECT_TRUE(found) << method << " " << where << " is documented but not routed";
    }
  }
}

TEST_F(OpenApiTest, AgentJsonCarriesEveryRequiredProperty) {
  const auto with_report = agentJson(makeAgent("a", "redis", "redis", Liveness::kAlive));
  const auto without_report = agentJson(makeAgent("b", "redis", "redis", Liveness::kAlive, ""));
  expectRequiredPresent("Agent", with_report);
  expectRequiredPresent("Agent", without_report);
  expectRequiredPresent("Health", with_report["health"]);
  expectRequiredPresent("Health", without_report["health"]);
  expectRequiredPresent("Probe", with_report["health"]["probes"][0]);
  // And nothing undocumented.
  const YAML::Node properties = spec_["components"]["schemas"]["Agent"]["properties"];
  for (const auto& [key, value] : with_report.items()) {
    EXPECT_TRUE(properties[key].IsDefined()) << "'" << key << "' is not in the Agent schema";
  }
}

TEST_F(OpenApiTest, OtherViewsCarryTheirRequiredProperties) {
  HistoryEntry entry;
  entry.ts_ms = 1;
  const auto history = historyEntryJson(entry);
  expectRequiredPresent("HistoryEntry", history);
  expectRequiredPresent("Report", history["report"]);
  const auto services = servicesJson({makeAgent("a", "redis", "redis", Liveness::kAlive)});
  expectRequiredPresent("ServiceList", services);
  expectRequiredPresent("Service", services["services"][0]);
  expectRequiredPresent("ServiceMember", services["services"][0]["members"][0]);
  expectRequiredPresent("Aggregate", services["services"][0]["cpu_ratio"]);
  expectRequiredPresent("Replication", services["services"][0]["replication"]);
}

TEST_F(OpenApiTest, ServiceViewsDocumentEveryProperty) {
  AgentRecord a = makeAgent("a", "redis", "redis", Liveness::kAlive, "healthy", "primary");
  const auto service = serviceJson(summarizeService({a}));
  for (const auto& [schema, value] : std::vector<std::pair<std::string, nlohmann::json>>{
           {"Service", service},
           {"ServiceMember", service["members"][0]},
           {"Aggregate", service["cpu_ratio"]},
           {"Aggregate", service["metrics"]["memory_bytes"]},
           {"Replication", service["replication"]}}) {
    expectRequiredPresent(schema, value);
    const YAML::Node properties = spec_["components"]["schemas"][schema]["properties"];
    for (const auto& [key, unused] : value.items()) {
      EXPECT_TRUE(properties[key].IsDefined()) << "'" << key << "' is not in " << schema;
    }
  }
}

TEST_F(OpenApiTest, MetricSeriesIsDocumented) {
  const YAML::Node schema = spec_["components"]["schemas"]["MetricSeries"];
  ASSERT_TRUE(schema.IsMap());
  std::vector<std::string> keys;
  for (const auto& item : schema["required"]) keys.push_back(item.as<std::string>());
  EXPECT_EQ(keys, (std::vector<std::string>{"agent", "name", "points"}));
  const YAML::Node point = schema["properties"]["points"]["items"]["required"];
  ASSERT_TRUE(point.IsSequence());
  EXPECT_EQ(point[0].as<std::string>(), "ts");
  EXPECT_EQ(point[1].as<std::string>(), "value");
}

}  // namespace
}  // namespace noa::controller::api
