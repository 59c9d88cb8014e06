#include "common/protocol/codec.h"

#include <gtest/gtest.h>

#include <functional>
#include <msgpack.hpp>
#include <string>
#include <tuple>
#include <vector>

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
  for (int i = 0; i < 40; ++i)
    report.metrics.push_back({"metric_name_" + std::to_string(i), i * 1.5});
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

// An envelope packed by hand up to its body, which the caller writes.
void packEnvelopeUpToBody(msgpack::packer<msgpack::sbuffer>& pk, const std::string& type) {
  pk.pack_map(4);
  pk.pack(std::string("v")), pk.pack(1);
  pk.pack(std::string("type")), pk.pack(type);
  pk.pack(std::string("from")), pk.pack(std::string("a"));
  pk.pack(std::string("body"));
}

// A report body of two keys, the first of them seq; the caller packs the second.
void packSeqThenOneKey(msgpack::packer<msgpack::sbuffer>& pk) {
  pk.pack_map(2);
  pk.pack(std::string("seq")), pk.pack(3);
}

// A report envelope packed by hand up to its body's second key, which the caller writes.
void packReportUpToSecondBodyKey(msgpack::packer<msgpack::sbuffer>& pk) {
  packEnvelopeUpToBody(pk, "report");
  packSeqThenOneKey(pk);
}

TEST(Codec, ErrorsNameTheField) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> pk(buffer);
  packReportUpToSecondBodyKey(pk);
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

// Paths are built only for an error, from the maps and arrays the field sits in.
TEST(Codec, ErrorPathsNameNestedFieldsArrayElementsAndMaps) {
  // Each case: a message, one field of it spoiled by hand, the error expected.
  struct Case {
    std::string expected;
    std::function<void(msgpack::packer<msgpack::sbuffer>&)> pack_body;
  };
  const std::vector<Case> cases = {
      {"body.capabilities[1]: expected string",
       [](auto& pk) {
         pk.pack_map(2);
         pk.pack(std::string("agent_id")), pk.pack(std::string("a"));
         pk.pack(std::string("capabilities")), pk.pack_array(2);
         pk.pack(std::string("pg_dump")), pk.pack(3);
       }},
      {"body.health.probes[1]: expected map",
       [](auto& pk) {
         packSeqThenOneKey(pk);
         pk.pack(std::string("health")), pk.pack_map(1);
         pk.pack(std::string("probes")), pk.pack_array(2);
         pk.pack_map(1), pk.pack(std::string("name")), pk.pack(std::string("live"));
         pk.pack(std::string("not a probe"));
       }},
      {"body.health.live: expected boolean",
       [](auto& pk) {
         packSeqThenOneKey(pk);
         pk.pack(std::string("health")), pk.pack_map(1);
         pk.pack(std::string("live")), pk.pack(1);
       }},
      {"body.health.probes[0].name: required",
       [](auto& pk) {
         packSeqThenOneKey(pk);
         pk.pack(std::string("health")), pk.pack_map(1);
         pk.pack(std::string("probes")), pk.pack_array(1), pk.pack_map(0);
       }},
      {"body.metrics: keys must be strings",
       [](auto& pk) {
         packSeqThenOneKey(pk);
         pk.pack(std::string("metrics")), pk.pack_map(1), pk.pack(1), pk.pack(2.5);
       }},
      {"body.metrics.: expected number",  // an empty metric name is still named
       [](auto& pk) {
         packSeqThenOneKey(pk);
         pk.pack(std::string("metrics")), pk.pack_map(1), pk.pack(std::string("")), pk.pack_nil();
       }},
      {"body.health: expected map",
       [](auto& pk) {
         packSeqThenOneKey(pk);
         pk.pack(std::string("health")), pk.pack(std::string("fine"));
       }},
  };
  for (const Case& c : cases) {
    msgpack::sbuffer buffer;
    msgpack::packer<msgpack::sbuffer> pk(buffer);
    const bool hello = c.expected.rfind("body.capabilities", 0) == 0;
    packEnvelopeUpToBody(pk, hello ? "hello" : "report");
    c.pack_body(pk);
    auto decoded = decode(std::string_view(buffer.data(), buffer.size()));
    ASSERT_FALSE(decoded.ok()) << c.expected;
    EXPECT_EQ(decoded.status().message(), c.expected);
  }
}

// The ingest thread decodes every report into the metric names of the report it replaced. What
// the recycled vector held (more metrics, fewer, longer names, none) must never show.
TEST(Codec, DecodingIntoRecycledMetricsGivesTheSameMessage) {
  auto reportWith = [](std::vector<Metric> metrics) {
    Report report;
    report.seq = 9;
    report.health.state = "healthy";
    report.metrics = std::move(metrics);
    Envelope env = testing::envelope("a-9", "a", report);
    std::string bytes = encode(env);
    return std::pair{env, bytes};
  };
  std::vector<Metric> many;
  for (int i = 0; i < 50; ++i) {
    many.push_back({"a_rather_long_metric_name_that_needs_the_heap_" + std::to_string(i), i * 2.0});
  }
  const std::vector<std::vector<Metric>> sequence = {
      many, {{"cpu", 0.5}, {"mem", 1e9}},
      {},   {{"cpu", 0.25}, {"a_rather_long_metric_name_that_needs_the_heap_0", -1}, {"x", 3}},
      many, {{"only_one", 42}},
  };
  DecodeScratch scratch;
  scratch.metrics = {{"left_over_from_somewhere_else", 7}, {"z", 8}};
  for (size_t i = 0; i < sequence.size(); ++i) {
    const auto [expected, bytes] = reportWith(sequence[i]);
    auto plain = decode(bytes);
    auto recycled = decode(bytes, {}, &scratch);
    ASSERT_OK(plain);
    ASSERT_OK(recycled);
    EXPECT_EQ(*recycled, expected) << "message " << i;
    EXPECT_EQ(*recycled, *plain) << "message " << i;
    // As IngestCore does: the decoded report's metrics go back for the next decode.
    scratch.metrics = std::move(std::get<Report>(recycled->body).metrics);
  }
  // Other message types leave the scratch alone; a failed decode only costs it.
  auto hello = decode(encode(testing::envelope("a-1", "a", Hello{.agent_id = "a"})), {}, &scratch);
  ASSERT_OK(hello);
  EXPECT_EQ(scratch.metrics.size(), 1u);
  auto [expected, bytes] = reportWith({{"cpu", 1}});
  bytes.back() ^= 0x7f;  // spoils the last byte (inside the report)
  EXPECT_FALSE(decode(bytes, {}, &scratch).ok());
  auto after = decode(reportWith({{"cpu", 1}}).second, {}, &scratch);
  ASSERT_OK(after);
  EXPECT_EQ(std::get<Report>(after->body).metrics, (std::vector<Metric>{{"cpu", 1}}));
}

TEST(Codec, ErrorsInMapEntriesNameTheEntry) {
  for (const auto& [field, wrong_is_string, expected] :
       {std::tuple{"metrics", true, "body.metrics.cpu_usage_cores: expected number"},
        std::tuple{"attributes", false, "body.attributes.cpu_usage_cores: expected string"}}) {
    msgpack::sbuffer buffer;
    msgpack::packer<msgpack::sbuffer> pk(buffer);
    packReportUpToSecondBodyKey(pk);
    pk.pack(std::string(field));
    pk.pack_map(2);
    pk.pack(std::string("mem")), wrong_is_string ? pk.pack(1.5) : pk.pack(std::string("x"));
    pk.pack(std::string("cpu_usage_cores"));
    wrong_is_string ? pk.pack(std::string("high")) : pk.pack(0.5);
    auto decoded = decode(std::string_view(buffer.data(), buffer.size()));
    ASSERT_FALSE(decoded.ok()) << field;
    EXPECT_EQ(decoded.status().message(), expected);
  }
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

// 2^64 is where msgpack-c's pack_double compares d <= double(UINT64_MAX), true because that bound
// rounds to 2^64, and then converts 2^64 to uint64_t: undefined (UBSan under the fuzzer). Ours
// writes it as the float it is, in a metric and in a parameter alike; the integers either side of
// it keep msgpack-c's integer form, which the golden vectors pin.
TEST(Codec, FloatsAtTheEdgesOfTheIntegerRangesRoundTripToTheSameNumber) {
  const double two_to_64 = 18446744073709551616.0;
  const double edges[] = {two_to_64,
                          9223372036854775808.0,
                          18446744073709549568.0,
                          -9223372036854775808.0,
                          -9223372036854777856.0,
                          0.5,
                          -0.0,
                          1e300};
  for (double edge : edges) {
    Envelope env;
    env.id = "a-1";
    env.from = "a";
    Report report;
    report.seq = 1;
    report.metrics.push_back({"edge", edge});
    env.body = report;
    const std::string once = encode(env);
    auto decoded = decode(once);
    ASSERT_TRUE(decoded.ok()) << edge << ": " << decoded.status().message();
    EXPECT_EQ(std::get<Report>(decoded->body).metrics.at(0).value, edge);
    EXPECT_EQ(encode(*decoded), once) << edge;

    Command command;
    command.command_id = "c1";
    command.action = "scale";
    command.params["edge"] = edge;
    env.body = command;
    const std::string command_once = encode(env);
    auto command_decoded = decode(command_once);
    ASSERT_TRUE(command_decoded.ok()) << edge << ": " << command_decoded.status().message();
    EXPECT_EQ(encode(*command_decoded), command_once) << edge;
  }
  Envelope env;
  env.id = "a-1";
  env.from = "a";
  Report report;
  report.metrics.push_back({"edge", two_to_64});
  env.body = report;
  const std::string bytes = encode(env);
  EXPECT_NE(bytes.find(std::string("\xcb\x43\xf0\0\0\0\0\0\0", 9)), std::string::npos)
      << "2^64 goes out as float64";
}

}  // namespace
}  // namespace noa::protocol
