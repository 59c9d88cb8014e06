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
#include "controller/commands/command_record.h"
#include "tests/testing/fake_clock.h"
#include "tests/unit/controller/api/fake_agent_side.h"
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

  // Non-const nodes throughout: yaml-cpp's const operator[] yields an invalid node for a missing
  // key, on which IsSequence() and friends throw.
  YAML::Node resolve(YAML::Node schema) {
    const std::string ref = schema["$ref"].as<std::string>("");
    const std::string prefix = "#/components/schemas/";
    if (ref.empty()) return schema;
    EXPECT_EQ(ref.rfind(prefix, 0), 0u) << ref;
    YAML::Node target = spec_["components"]["schemas"][ref.substr(prefix.size())];
    EXPECT_TRUE(target.IsMap()) << ref << " does not resolve";
    return target;
  }

  // Checks `value` against a schema of this spec (the subset it uses: $ref, type, nullable,
  // enum, required, properties, items). Strict: an object member the schema does not list is an
  // error, so a view cannot grow undocumented members; an object schema without properties
  // (params, output) takes any members.
  void validate(YAML::Node schema_or_ref, const nlohmann::json& value, const std::string& where,
                std::vector<std::string>& errors) {
    YAML::Node schema = resolve(schema_or_ref);
    if (value.is_null()) {
      if (!schema["nullable"].as<bool>(false)) errors.push_back(where + ": null");
      return;
    }
    YAML::Node properties = schema["properties"];
    std::string type = schema["type"].as<std::string>("");
    if (type.empty() && properties.IsMap()) type = "object";
    const bool type_ok =
        type.empty() || (type == "object" && value.is_object()) ||
        (type == "array" && value.is_array()) || (type == "string" && value.is_string()) ||
        (type == "integer" && value.is_number_integer()) ||
        (type == "number" && value.is_number()) || (type == "boolean" && value.is_boolean());
    if (!type_ok) {
      errors.push_back(where + ": expected " + type + ", got " + value.dump());
      return;
    }
    if (schema["enum"].IsSequence()) {
      bool listed = false;
      for (const auto& item : schema["enum"]) {
        listed =
            listed || (value.is_string() && item.as<std::string>() == value.get<std::string>());
      }
      if (!listed) errors.push_back(where + ": " + value.dump() + " is not in the enum");
    }
    if (type == "array" && schema["items"].IsDefined()) {
      for (size_t i = 0; i < value.size(); ++i) {
        validate(schema["items"], value[i], where + "[" + std::to_string(i) + "]", errors);
      }
    }
    if (type != "object") return;
    YAML::Node required_keys = schema["required"];
    for (size_t i = 0; required_keys.IsSequence() && i < required_keys.size(); ++i) {
      YAML::Node key = required_keys[i];
      if (!value.contains(key.as<std::string>())) {
        errors.push_back(where + ": lacks required '" + key.as<std::string>() + "'");
      }
    }
    if (!properties.IsMap()) return;
    for (const auto& [key, member] : value.items()) {
      YAML::Node property = properties[key];
      if (!property.IsDefined()) {
        errors.push_back(where + ": '" + key + "' is not in the schema");
        continue;
      }
      validate(property, member, where + "." + key, errors);
    }
  }

  // The schema of one documented answer, e.g. ("/v1/commands", "post", "201").
  YAML::Node responseSchema(const std::string& path, const std::string& method,
                            const std::string& status) {
    YAML::Node response = spec_["paths"][path][method]["responses"][status];
    EXPECT_TRUE(response.IsMap()) << method << " " << path << " does not document " << status;
    const std::string ref = response["$ref"].as<std::string>("");
    const std::string prefix = "#/components/responses/";
    if (!ref.empty()) {  // a shared answer, such as CommandCreated (never assign a Node: that
                         // would overwrite the spec's own node)
      EXPECT_EQ(ref.rfind(prefix, 0), 0u) << ref;
      YAML::Node shared = spec_["components"]["responses"][ref.substr(prefix.size())];
      EXPECT_TRUE(shared.IsMap()) << ref << " does not resolve";
      return shared["content"]["application/json"]["schema"];
    }
    return response["content"]["application/json"]["schema"];
  }

  void expectValid(YAML::Node schema, const nlohmann::json& value, const std::string& where) {
    std::vector<std::string> errors;
    validate(schema, value, where, errors);
    for (const auto& e : errors) ADD_FAILURE() << e;
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

TEST_F(OpenApiTest, TheValidatorCatchesWhatItShould) {
  YAML::Node command = spec_["components"]["schemas"]["Command"];
  nlohmann::json value = commands::commandToJson(commands::CommandRecord{});
  std::vector<std::string> errors;
  validate(command, value, "Command", errors);
  EXPECT_TRUE(errors.empty()) << errors.front();
  value["extra"] = 1;
  value["state"] = "done";
  value["attempts"] = "1";
  value.erase("id");
  errors.clear();
  validate(command, value, "Command", errors);
  EXPECT_EQ(errors.size(), 4u);
}

TEST_F(OpenApiTest, CommandRecordsInEveryShapeMatchTheCommandSchema) {
  commands::CommandRecord r;
  r.id = "cmd-1790000000000-000001";
  r.agent_id = "pg-1";
  r.action = "backup.pg_dump";
  r.params = {{"format", "custom"}, {"tables", {"a", "b"}}};
  r.history.push_back({commands::CommandState::kPending, 1, "created by o"});
  r.history.push_back({commands::CommandState::kSent, 2, ""});
  YAML::Node schema = spec_["components"]["schemas"]["Command"];
  expectValid(schema, commands::commandToJson(r), "pending");
  r.state = commands::CommandState::kRunning;
  r.progress = commands::CommandProgress{"dump", 10, 100, 3};
  expectValid(schema, commands::commandToJson(r), "running");
  r.origin = "backup:postgres/nightly";
  r.state = commands::CommandState::kFailed;
  r.result = commands::CommandOutcome{"failed", 2, "busy", "locked", {{"lock", "x"}}, 40};
  expectValid(schema, commands::commandToJson(r), "failed");
  // Every property the schema lists is one commandToJson writes: nothing documented is made up.
  const nlohmann::json full = commands::commandToJson(r);
  for (const auto& property : schema["properties"]) {
    EXPECT_TRUE(full.contains(property.first.as<std::string>())) << property.first;
  }
}

TEST_F(OpenApiTest, CommandRouteAnswersMatchTheirDocumentedSchemas) {
  prometheus::Registry registry;
  noa::testing::FakeClock clock;
  noa::testing::FakeStateView state(registry);
  commands::CommandBook& book = state.enableCommands(clock);
  AgentRecord pg =
      makeAgent("pg-1", "postgres", "postgres", Liveness::kAlive, "healthy", "primary");
  pg.hello.capabilities = {"ping"};
  state.setAgents({pg});
  const ApiContext context{state, clock};
  auto call = [&](const std::string& method, const std::string& path, const std::string& body) {
    ApiRequest request;
    request.method = method;
    request.path = path;
    request.body = body;
    return dispatch(context, request);
  };

  ApiResponse created = call("POST", "/v1/commands",
                             R"({"action": "ping", "service": "postgres", "role": "primary"})");
  ASSERT_EQ(created.status, 201) << created.body;
  const auto record = nlohmann::json::parse(created.body);
  expectValid(responseSchema("/v1/commands", "post", "201"), record, "POST /v1/commands");
  const std::string id = record["id"];
  noa::testing::deliverTo(book, "pg-1");
  noa::testing::reportProgress(book, "pg-1", id, "ping", 1, 1);
  expectValid(responseSchema("/v1/commands/{id}", "get", "200"),
              nlohmann::json::parse(call("GET", "/v1/commands/" + id, "").body), "GET running");
  noa::testing::reportResult(book, "pg-1", id, "succeeded", "", "", R"({"rtt_ms": 1})");
  expectValid(responseSchema("/v1/commands", "get", "200"),
              nlohmann::json::parse(call("GET", "/v1/commands", "").body), "GET /v1/commands");

  const std::string other = nlohmann::json::parse(
      call("POST", "/v1/commands", R"({"action": "ping", "agent_id": "pg-1"})").body)["id"];
  ApiResponse cancelled = call("POST", "/v1/commands/" + other + "/cancel", "");
  ASSERT_EQ(cancelled.status, 200);
  expectValid(responseSchema("/v1/commands/{id}/cancel", "post", "200"),
              nlohmann::json::parse(cancelled.body), "POST cancel");
  // Refusals are documented problems.
  ApiResponse refused = call("POST", "/v1/commands/" + other + "/cancel", "");
  ASSERT_EQ(refused.status, 409);
  EXPECT_TRUE(spec_["paths"]["/v1/commands/{id}/cancel"]["post"]["responses"]["409"].IsMap());
  expectValid(spec_["components"]["schemas"]["Problem"], nlohmann::json::parse(refused.body),
              "409");
  ApiResponse bad_field = call("POST", "/v1/commands", R"({"action": "ping", "agnet_id": "x"})");
  ASSERT_EQ(bad_field.status, 400);
  expectValid(spec_["components"]["schemas"]["Problem"], nlohmann::json::parse(bad_field.body),
              "400");
}

TEST_F(OpenApiTest, BackupRouteAnswersMatchTheirDocumentedSchemas) {
  prometheus::Registry registry;
  noa::testing::FakeClock clock;
  noa::testing::FakeStateView state(registry);
  backups::BackupCoordinator& coordinator = state.enableBackups(clock, R"(
services:
  postgres:
    backups:
      - {name: nightly, kind: pg_dump, schedule: "0 3 * * *"}
    drill: {schedule: "0 5 * * 0", rto_target: 1h}
)");
  commands::CommandBook& book = *state.commands();
  AgentRecord pg =
      makeAgent("pg-1", "postgres", "postgres", Liveness::kAlive, "healthy", "primary");
  pg.hello.capabilities = {"backup.pg_dump", "backup.verify", "restore.pg_restore"};
  state.setAgents({pg});
  const ApiContext context{state, clock};
  auto call = [&](const std::string& method, const std::string& path, const std::string& body) {
    ApiRequest request;
    request.method = method;
    request.path = path;
    request.body = body;
    return dispatch(context, request);
  };
  auto body = [](const ApiResponse& res) { return nlohmann::json::parse(res.body); };
  // Played by the agent: takes what is due and answers `id`; then the reconcile tick.
  auto answer = [&](const std::string& id, const std::string& status, const nlohmann::json& out) {
    noa::testing::deliverTo(book, "pg-1");
    noa::testing::reportResult(book, "pg-1", id, status, status == "succeeded" ? "" : "io_error",
                               "", out.dump());
    coordinator.tick();
  };
  expectValid(responseSchema("/v1/backups/status", "get", "200"),
              body(call("GET", "/v1/backups/status", "")), "status without backups");

  ApiResponse created = call("POST", "/v1/backups", R"({"service": "postgres"})");
  ASSERT_EQ(created.status, 201) << created.body;
  expectValid(responseSchema("/v1/backups", "post", "201"), body(created), "POST /v1/backups");
  answer(body(created)["id"], "succeeded",
         {{"artifact_path", "/b/app.dump"}, {"sha256", std::string(64, 'a')}, {"verified", true}});
  const nlohmann::json list = body(call("GET", "/v1/backups", ""));
  expectValid(responseSchema("/v1/backups", "get", "200"), list, "GET /v1/backups");
  ASSERT_EQ(list["backups"].size(), 1u);
  const std::string id = list["backups"][0]["id"];

  ApiResponse drill = call("POST", "/v1/backups/drills", R"({"service": "postgres"})");
  ASSERT_EQ(drill.status, 201) << drill.body;
  expectValid(responseSchema("/v1/backups/drills", "post", "201"), body(drill), "POST drills");
  answer(body(drill)["id"], "succeeded", {{"tables", {{"t", 1}}}});
  ApiResponse verify = call("POST", "/v1/backups/" + id + "/verify", "");
  ASSERT_EQ(verify.status, 201) << verify.body;
  expectValid(responseSchema("/v1/backups/{id}/verify", "post", "201"), body(verify), "verify");
  answer(body(verify)["id"], "failed", nlohmann::json::object());
  ApiResponse pinned = call("POST", "/v1/backups/" + id + "/pin", "");
  ASSERT_EQ(pinned.status, 200) << pinned.body;
  expectValid(responseSchema("/v1/backups/{id}/pin", "post", "200"), body(pinned), "pin");
  const nlohmann::json one = body(call("GET", "/v1/backups/" + id, ""));
  EXPECT_EQ(one["verifications"].size(), 2u) << one.dump();
  EXPECT_EQ(one["drills"].size(), 1u) << one.dump();
  expectValid(responseSchema("/v1/backups/{id}", "get", "200"), one, "GET one, with checks");
  const nlohmann::json status = body(call("GET", "/v1/backups/status", ""));
  EXPECT_TRUE(status["services"][0]["last_drill"].is_object()) << status.dump();
  expectValid(responseSchema("/v1/backups/status", "get", "200"), status, "status");
  // Every property the Backup schema lists is one backupToJson writes.
  for (const auto& property : spec_["components"]["schemas"]["Backup"]["properties"]) {
    EXPECT_TRUE(one.contains(property.first.as<std::string>())) << property.first;
  }

  // Refusals are documented problems: a corrupt backup is not restored (409).
  ApiResponse refused = call("POST", "/v1/backups/" + id + "/restore", R"({"target_db": "x"})");
  ASSERT_EQ(refused.status, 409) << refused.body;
  EXPECT_TRUE(spec_["paths"]["/v1/backups/{id}/restore"]["post"]["responses"]["409"].IsMap());
  expectValid(spec_["components"]["schemas"]["Problem"], body(refused), "409");
  ApiResponse restore = call("POST", "/v1/backups/" + id + "/restore", R"({"target": "x"})");
  ASSERT_EQ(restore.status, 400);
  expectValid(spec_["components"]["schemas"]["Problem"], body(restore), "400");
}

}  // namespace
}  // namespace noa::controller::api
