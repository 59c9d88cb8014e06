// The golden vectors in schemas/vectors/protocol-v1.json: every valid vector decodes to the sample
// message of the same name and re-encodes byte for byte; every invalid one is refused for the
// stated reason; compatible ones (unknown keys, missing optional keys) decode with defaults.
// tests/protocol/check_vectors.py checks the same file with an independent MessagePack
// implementation and the JSON Schema.
//
// After a deliberate wire change: NOA_REGENERATE_VECTORS=1 ./noa_protocol_test rewrites the
// valid vectors (invalid and compatible ones are kept), then review the diff.

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/protocol/codec.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/common/protocol/sample_messages.h"

namespace noa::protocol {
namespace {

using nlohmann::json;

const std::string kVectorsPath = std::string(NOA_SOURCE_DIR) + "/schemas/vectors/protocol-v1.json";

std::string toHex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::string fromHex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return out;
}

json loadVectors() {
  std::ifstream in(kVectorsPath);
  if (!in) return json::object();
  return json::parse(in, nullptr, false);
}

class GoldenVectors : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::getenv("NOA_REGENERATE_VECTORS") != nullptr) regenerate();
    vectors_ = loadVectors();
    ASSERT_FALSE(vectors_.is_discarded()) << kVectorsPath << " is not valid JSON";
    ASSERT_TRUE(vectors_.contains("valid")) << kVectorsPath;
  }

  static void regenerate() {
    json file = loadVectors();
    if (file.is_discarded()) file = json::object();
    file["protocol_version"] = kProtocolMajor;
    file["valid"] = json::array();
    for (const auto& [name, env] : testing::sampleMessages()) {
      file["valid"].push_back(
          {{"name", name}, {"type", messageTypeName(env.type())}, {"hex", toHex(encode(env))}});
    }
    std::ofstream(kVectorsPath) << file.dump(1) << "\n";
  }

  json vectors_;
};

TEST_F(GoldenVectors, ValidVectorsDecodeAndReencodeByteForByte) {
  const auto samples = testing::sampleMessages();
  ASSERT_EQ(vectors_["valid"].size(), samples.size()) << "a sample has no vector or vice versa";
  for (const auto& [name, env] : samples) {
    const json* vector = nullptr;
    for (const auto& v : vectors_["valid"]) {
      if (v["name"] == name) vector = &v;
    }
    ASSERT_NE(vector, nullptr) << "no vector named " << name;
    const std::string bytes = fromHex((*vector)["hex"].get<std::string>());
    EXPECT_EQ(toHex(encode(env)), (*vector)["hex"].get<std::string>()) << name;
    auto decoded = decode(bytes);
    ASSERT_OK(decoded);
    EXPECT_EQ(*decoded, env) << name;
    EXPECT_EQ(messageTypeName(decoded->type()), (*vector)["type"].get<std::string>());
  }
}

TEST_F(GoldenVectors, InvalidVectorsAreRefusedForTheirReason) {
  ASSERT_GE(vectors_["invalid"].size(), 10u);
  for (const auto& v : vectors_["invalid"]) {
    auto decoded = decode(fromHex(v["hex"].get<std::string>()));
    ASSERT_FALSE(decoded.ok()) << v["name"];
    EXPECT_EQ(rejectReason(decoded.status()), v["reason"].get<std::string>())
        << v["name"] << ": " << decoded.status().toString();
    EXPECT_FALSE(decoded.status().message().empty());
  }
}

TEST_F(GoldenVectors, CompatibleVectorsIgnoreUnknownKeysAndDefaultMissingOnes) {
  std::map<std::string, Envelope> decoded;
  for (const auto& v : vectors_["compatible"]) {
    auto env = decode(fromHex(v["hex"].get<std::string>()));
    ASSERT_OK(env);
    decoded[v["name"].get<std::string>()] = *env;
  }
  ASSERT_EQ(decoded.count("unknown_keys_and_defaults"), 1u);
  const Envelope& hello_env = decoded["unknown_keys_and_defaults"];
  const auto& hello = std::get<Hello>(hello_env.body);
  EXPECT_EQ(hello_env.id, "");
  EXPECT_EQ(hello_env.ts_ms, 0);
  EXPECT_EQ(hello.agent_id, "a");
  EXPECT_EQ(hello.service, "");
  EXPECT_TRUE(hello.capabilities.empty());
  EXPECT_EQ(hello.report_interval_ms, 1000u);

  ASSERT_EQ(decoded.count("integer_metric"), 1u);
  const auto& report = std::get<Report>(decoded["integer_metric"].body);
  ASSERT_EQ(report.metrics.size(), 1u);
  EXPECT_EQ(report.metrics[0].name, "connections");
  EXPECT_DOUBLE_EQ(report.metrics[0].value, 12.0);
  EXPECT_EQ(report.health.state, "unknown");
}

}  // namespace
}  // namespace noa::protocol
