#include <gtest/gtest.h>

#include <msgpack.hpp>

#include "controller/store/store.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/controller/store/store_test_util.h"

namespace noa::controller {
namespace {

using testing::sampleHello;
using testing::sampleRecord;

using Packer = msgpack::packer<msgpack::sbuffer>;

void packStr(Packer& pk, std::string_view s) {
  pk.pack_str(static_cast<uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

void packBin(Packer& pk, std::string_view s) {
  pk.pack_bin(static_cast<uint32_t>(s.size()));
  pk.pack_bin_body(s.data(), static_cast<uint32_t>(s.size()));
}

std::string helloEnvelope(const std::string& id) {
  protocol::Envelope env;
  env.from = id;
  env.body = sampleHello(id);
  return protocol::encode(env);
}

TEST(RecordCodec, RoundTripWithReport) {
  const AgentRecord record = sampleRecord("pg-1");
  auto decoded = decodeAgentRecord(encodeAgentRecord(record));
  ASSERT_OK(decoded);
  EXPECT_EQ(*decoded, record);
  EXPECT_EQ(decoded->last_report.health.probes.size(), 2u);
  EXPECT_EQ(decoded->last_report.attributes.at("lsn"), "0/3000148");
  EXPECT_EQ(decoded->last_report.metrics[1].value, 73400320.0);
}

TEST(RecordCodec, RoundTripWithoutReport) {
  AgentRecord record = sampleRecord("redis-1", /*with_report=*/false);
  record.liveness = Liveness::kLost;
  auto decoded = decodeAgentRecord(encodeAgentRecord(record));
  ASSERT_OK(decoded);
  EXPECT_EQ(*decoded, record);
  EXPECT_FALSE(decoded->has_report);
}

TEST(RecordCodec, EncodingIsDeterministic) {
  EXPECT_EQ(encodeAgentRecord(sampleRecord("a")), encodeAgentRecord(sampleRecord("a")));
}

TEST(RecordCodec, UnknownKeysAreIgnored) {
  msgpack::sbuffer buf;
  Packer pk(buf);
  pk.pack_map(5);
  packStr(pk, "rv"), pk.pack(2);  // a newer minor record version adds keys
  packStr(pk, "future_field"), pk.pack_array(2), pk.pack(1), packStr(pk, "x");
  packStr(pk, "hello"), packBin(pk, helloEnvelope("pg-1"));
  packStr(pk, "last_seq"), pk.pack(9);
  packStr(pk, "liveness"), packStr(pk, "lost");
  auto decoded = decodeAgentRecord(std::string_view(buf.data(), buf.size()));
  ASSERT_OK(decoded);
  EXPECT_EQ(decoded->hello, sampleHello("pg-1"));
  EXPECT_EQ(decoded->last_seq, 9u);
  EXPECT_EQ(decoded->liveness, Liveness::kLost);
}

TEST(RecordCodec, MissingOptionalKeysGetDefaults) {
  msgpack::sbuffer buf;
  Packer pk(buf);
  pk.pack_map(2);
  packStr(pk, "rv"), pk.pack(1);
  packStr(pk, "hello"), packBin(pk, helloEnvelope("pg-1"));
  auto decoded = decodeAgentRecord(std::string_view(buf.data(), buf.size()));
  ASSERT_OK(decoded);
  AgentRecord expected;
  expected.hello = sampleHello("pg-1");
  EXPECT_EQ(*decoded, expected);
}

TEST(RecordCodec, WrongTypeNamesTheKey) {
  msgpack::sbuffer buf;
  Packer pk(buf);
  pk.pack_map(3);
  packStr(pk, "rv"), pk.pack(1);
  packStr(pk, "hello"), packBin(pk, helloEnvelope("pg-1"));
  packStr(pk, "last_seen_ms"), packStr(pk, "yesterday");
  auto decoded = decodeAgentRecord(std::string_view(buf.data(), buf.size()));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption);
  EXPECT_NE(decoded.status().message().find("last_seen_ms"), std::string::npos)
      << decoded.status().message();
}

TEST(RecordCodec, RequiredKeysAndBadEnvelopes) {
  {
    msgpack::sbuffer buf;
    Packer pk(buf);
    pk.pack_map(1);
    packStr(pk, "rv"), pk.pack(1);
    auto decoded = decodeAgentRecord(std::string_view(buf.data(), buf.size()));
    ASSERT_FALSE(decoded.ok());
    EXPECT_NE(decoded.status().message().find("hello"), std::string::npos);
  }
  {
    msgpack::sbuffer buf;
    Packer pk(buf);
    pk.pack_map(2);
    packStr(pk, "rv"), pk.pack(1);
    packStr(pk, "hello"), packBin(pk, "\xc1 not an envelope");
    auto decoded = decodeAgentRecord(std::string_view(buf.data(), buf.size()));
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption);
    EXPECT_NE(decoded.status().message().find("hello"), std::string::npos);
  }
  {
    // A report where the hello belongs.
    protocol::Envelope env;
    env.from = "pg-1";
    env.body = testing::sampleReport(1);
    msgpack::sbuffer buf;
    Packer pk(buf);
    pk.pack_map(2);
    packStr(pk, "rv"), pk.pack(1);
    packStr(pk, "hello"), packBin(pk, protocol::encode(env));
    auto decoded = decodeAgentRecord(std::string_view(buf.data(), buf.size()));
    ASSERT_FALSE(decoded.ok());
    EXPECT_NE(decoded.status().message().find("report"), std::string::npos);
  }
}

TEST(RecordCodec, GarbageIsCorruption) {
  for (std::string_view bytes :
       {std::string_view(""), std::string_view("\xc1\xc1\xc1", 3), std::string_view("\x93\x01", 2),
        std::string_view("\x01"), std::string_view("hello world")}) {
    auto decoded = decodeAgentRecord(bytes);
    ASSERT_FALSE(decoded.ok()) << bytes;
    EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption) << decoded.status().toString();
  }
  std::string truncated = encodeAgentRecord(sampleRecord("pg-1"));
  truncated.resize(truncated.size() / 2);
  EXPECT_EQ(decodeAgentRecord(truncated).status().code(), StatusCode::kCorruption);
  std::string trailing = encodeAgentRecord(sampleRecord("pg-1")) + "x";
  EXPECT_EQ(decodeAgentRecord(trailing).status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace noa::controller
