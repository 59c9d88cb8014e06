#include "common/protocol/codec.h"

#include <gtest/gtest.h>
#include <msgpack.hpp>

#include <string>

#include "tests/testing/status_matchers.h"
#include "tests/unit/common/protocol/sample_messages.h"

namespace noa::protocol {
namespace {

using testing::sampleMessages;

TEST(Codec, EveryMessageTypeRoundTrips) {
  for (const auto& [name, env] : sampleMessages()) {
    const std::string bytes = encode(env);
    auto decoded = decode(bytes);
    ASSERT_OK(decoded);
    EXPECT_EQ(*decoded, env) << name;
    EXPECT_EQ(encode(*decoded), bytes) << name;
  }
}

TEST(Codec, TypeNamesMatchTheBodyAlternative) {
  for (const auto& [name, env] : sampleMessages()) {
    auto decoded = decode(encode(env));
    ASSERT_OK(decoded);
    EXPECT_EQ(decoded->type(), env.type()) << name;
  }
  EXPECT_EQ(messageTypeName(MessageType::kResult), "result");
  EXPECT_EQ(parseMessageType("report"), MessageType::kReport);
  EXPECT_FALSE(parseMessageType("gossip").has_value());
}

TEST(Codec, ARealisticReportStaysSmall) {
  Report report;
  report.seq = 123456;
  report.health.state = "healthy";
  for (int i = 0; i < 40; ++i) report.metrics.push_back({"metric_name_" + std::to_string(i), i * 1.5});
  const std::string bytes = encode(testing::envelope("agent-1-9", "agent-1", report));
  // 40 metrics must fit comfortably in the 64 KiB message limit (the reference measured 1.2 KB).
  EXPECT_LT(bytes.size(), 1500u);
}

TEST(Codec, MessageOverTheByteLimitIsOversized) {
  Bye bye{std::string(2000, 'x')};
  const std::string bytes = encode(testing::envelope("a-1", "a", bye));
  DecodeLimits limits;
  limits.max_bytes = 1000;
  auto decoded = decode(bytes, limits);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(rejectReason(decoded.status()), "oversized");
}

TEST(Codec, StringOverTheStringLimitIsOversized) {
  Bye bye{std::string(300, 'x')};
  DecodeLimits limits;
  limits.max_string_bytes = 256;
  auto decoded = decode(encode(testing::envelope("a-1", "a", bye)), limits);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(rejectReason(decoded.status()), "oversized") << decoded.status().toString();
}

TEST(Codec, TooManyMapEntriesIsOversized) {
  Report report;
  report.seq = 1;
  for (int i = 0; i < 50; ++i) report.metrics.push_back({"m" + std::to_string(i), 1});
  DecodeLimits limits;
  limits.max_map_entries = 20;
  auto decoded = decode(encode(testing::envelope("a-1", "a", report)), limits);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(rejectReason(decoded.status()), "oversized");
}

TEST(Codec, DeepNestingIsOversized) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> pk(buffer);
  for (int i = 0; i < 64; ++i) pk.pack_array(1);
  pk.pack_nil();
  auto decoded = decode(std::string_view(buffer.data(), buffer.size()));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(rejectReason(decoded.status()), "oversized");
}

TEST(Codec, EmptyInputIsMalformed) {
  auto decoded = decode("");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(rejectReason(decoded.status()), "malformed");
}

TEST(Codec, ErrorsNameTheField) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> pk(buffer);
  pk.pack_map(4);
  pk.pack(std::string("v")), pk.pack(1);
  pk.pack(std::string("type")), pk.pack(std::string("report"));
  pk.pack(std::string("from")), pk.pack(std::string("a"));
  pk.pack(std::string("body"));
  pk.pack_map(2);
  pk.pack(std::string("seq")), pk.pack(3);
  pk.pack(std::string("health"));
  pk.pack_map(1);
  pk.pack(std::string("probes"));
  pk.pack_array(1);
  pk.pack_map(2);
  pk.pack(std::string("name")), pk.pack(std::string("ready"));
  pk.pack(std::string("state")), pk.pack(7);
  auto decoded = decode(std::string_view(buffer.data(), buffer.size()));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().message(), "body.health.probes[0].state: expected string");
}

// msgpack-c's pack_double writes an integral double as an integer, so a float parameter of
// 2^63 or more goes out as an unsigned integer beyond int64. It must come back as that number
// and encode to the same bytes (fuzz_protocol_decode found the refusal it used to get).
TEST(Codec, CommandParametersBeyondInt64AreReadAsTheNumberTheyAre) {
  Envelope env;
  env.id = "ctl-1";
  env.from = "ctl";
  Command command;
  command.command_id = "c1";
  command.action = "scale";
  command.params["ratio"] = 9223372036854775808.0;  // 2^63
  env.body = command;
  const std::string once = encode(env);
  auto decoded = decode(once);
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  const auto& params = std::get<Command>(decoded->body).params;
  ASSERT_TRUE(std::holds_alternative<double>(params.at("ratio")));
  EXPECT_EQ(std::get<double>(params.at("ratio")), 9223372036854775808.0);
  EXPECT_EQ(encode(*decoded), once);
}

}  // namespace
}  // namespace noa::protocol
