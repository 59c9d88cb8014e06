#include "controller/store/schema.h"

#include <gtest/gtest.h>

#include <set>

namespace noa::controller::schema {
namespace {

TEST(StoreSchema, FamiliesMatchTheEnumAndAreUnique) {
  std::set<std::string_view> names;
  for (size_t i = 0; i < kFamilies.size(); ++i) {
    EXPECT_EQ(static_cast<size_t>(kFamilies[i].family), i);
    EXPECT_TRUE(names.insert(kFamilies[i].name).second) << kFamilies[i].name;
    EXPECT_EQ(parseFamily(kFamilies[i].name), kFamilies[i].family);
  }
  EXPECT_EQ(familyName(Family::kHistory), "history");
  EXPECT_EQ(familyName(Family::kAudit), "audit");
  EXPECT_FALSE(parseFamily("default").has_value());
}

TEST(StoreSchema, HistoryKeyRoundTrip) {
  const std::string key = encodeHistoryKey("pg-1", 1790000000123, 42);
  EXPECT_EQ(key.size(), 4 + kHistorySuffixBytes);
  EXPECT_EQ(key.substr(0, 5), std::string("pg-1\0", 5));
  auto decoded = decodeHistoryKey(key);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, (HistoryKey{"pg-1", 1790000000123, 42}));
  EXPECT_TRUE(key.starts_with(historyPrefix("pg-1")));
  EXPECT_LT(key, historyPrefixEnd("pg-1"));
}

TEST(StoreSchema, HistoryKeysOrderByTimeThenSeqWithinAnAgent) {
  EXPECT_LT(encodeHistoryKey("a", 255, 9), encodeHistoryKey("a", 256, 0));
  EXPECT_LT(encodeHistoryKey("a", 1000, 1), encodeHistoryKey("a", 1000, 2));
  EXPECT_LT(encodeHistoryKey("a", 1LL << 40, 0), encodeHistoryKey("a", (1LL << 40) + 1, 0));
  // One agent's range never interleaves with another whose id extends it.
  EXPECT_LT(encodeHistoryKey("a", INT64_MAX, UINT64_MAX), encodeHistoryKey("a-1", 0, 0));
  EXPECT_LT(historyPrefixEnd("a"), encodeHistoryKey("a-1", 0, 0));
}

TEST(StoreSchema, NegativeTimesAreStoredAsZero) {
  EXPECT_EQ(encodeHistoryKey("a", -5, 1), encodeHistoryKey("a", 0, 1));
}

TEST(StoreSchema, RejectsKeysOfAnotherShape) {
  EXPECT_FALSE(decodeHistoryKey("").has_value());
  EXPECT_FALSE(decodeHistoryKey("short").has_value());
  std::string no_separator = encodeHistoryKey("pg-1", 1, 1);
  no_separator[4] = 'x';
  EXPECT_FALSE(decodeHistoryKey(no_separator).has_value());
}

TEST(StoreSchema, Be64) {
  std::string out;
  appendBe64(out, 0x0102030405060708ULL);
  EXPECT_EQ(out, std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  EXPECT_EQ(readBe64(out), 0x0102030405060708ULL);
}

}  // namespace
}  // namespace noa::controller::schema
