#include "common/transport/curve_keys.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "tests/testing/harness/child_process.h"

namespace noa::transport {
namespace {

mode_t modeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

TEST(CurveKeys, GeneratedPairsAreValidAndKeyIdsAreStableHex) {
  auto pair = generateKeyPair();
  ASSERT_TRUE(pair.ok()) << pair.status().toString();
  EXPECT_TRUE(isValidKey(pair->public_key));
  EXPECT_TRUE(isValidKey(pair->secret_key));
  EXPECT_EQ(publicKeyOf(pair->secret_key).value(), pair->public_key);
  auto id = keyIdOf(pair->public_key);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->size(), kKeyIdChars);
  EXPECT_EQ(id->find_first_not_of("0123456789abcdef"), std::string::npos) << *id;
  EXPECT_EQ(keyIdOf(pair->public_key).value(), *id);
  EXPECT_EQ(keyIdOfRaw(decodeKey(pair->public_key).value()), *id);
  EXPECT_NE(keyIdOf(generateKeyPair()->public_key).value(), *id);
  EXPECT_FALSE(isValidKey("too short"));
  EXPECT_FALSE(keyIdOf(std::string(40, ' ')).ok());
}

TEST(CurveKeys, KeyIdIsTheFirstEightBytesOfSha256InHex) {
  // 32 zero bytes: SHA-256 = 66687aadf862bd77...
  EXPECT_EQ(keyIdOfRaw(std::string(32, '\0')), "66687aadf862bd77");
}

TEST(CurveKeys, FirstStartCreatesThePairWithASecretOnlyTheOwnerReads) {
  noa::testing::TempDir dir;
  const std::string keys = dir.path() + "/keys";
  bool created = false;
  auto pair = loadOrCreateKeyPair(keys, "agent", &created);
  ASSERT_TRUE(pair.ok()) << pair.status().toString();
  EXPECT_TRUE(created);
  EXPECT_EQ(modeOf(keys + "/agent.key"), 0600u);
  EXPECT_EQ(modeOf(keys), 0700u);
  EXPECT_EQ(readPublicKeyFile(keys + "/agent.pub").value(), pair->public_key);

  auto again = loadOrCreateKeyPair(keys, "agent", &created);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(created);
  EXPECT_EQ(again->secret_key, pair->secret_key);
  EXPECT_EQ(again->public_key, pair->public_key);
}

TEST(CurveKeys, ASecretReadableByOthersIsRefusedNotFixed) {
  noa::testing::TempDir dir;
  ASSERT_TRUE(loadOrCreateKeyPair(dir.path(), "controller").ok());
  const std::string secret = dir.path() + "/controller.key";
  ASSERT_EQ(::chmod(secret.c_str(), 0640), 0);
  auto loaded = loadOrCreateKeyPair(dir.path(), "controller");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(loaded.status().message().find("chmod 600 " + secret), std::string::npos);
  EXPECT_EQ(modeOf(secret), 0640u);  // left as found
}

TEST(CurveKeys, APublicFileThatDoesNotMatchIsAnError) {
  noa::testing::TempDir dir;
  ASSERT_TRUE(loadOrCreateKeyPair(dir.path(), "agent").ok());
  std::ofstream(dir.path() + "/agent.pub") << generateKeyPair()->public_key << "\n";
  auto loaded = loadKeyPair(dir.path(), "agent");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kInvalidArgument);
  // A missing public file is written again from the secret.
  std::filesystem::remove(dir.path() + "/agent.pub");
  auto rewritten = loadKeyPair(dir.path(), "agent");
  ASSERT_TRUE(rewritten.ok()) << rewritten.status().toString();
  EXPECT_EQ(readPublicKeyFile(dir.path() + "/agent.pub").value(), rewritten->public_key);
}

TEST(CurveKeys, KeyRefusalByesAreRecognised) {
  EXPECT_TRUE(isKeyRefusal(kByeKeyRevoked));
  EXPECT_TRUE(isKeyRefusal(byeAwaitingEnrollment("0123456789abcdef")));
  EXPECT_EQ(byeAwaitingEnrollment("0123456789abcdef"),
            "key 0123456789abcdef awaits enrollment: noactl keys accept 0123456789abcdef");
  EXPECT_FALSE(isKeyRefusal("agent stopping"));
  EXPECT_FALSE(isKeyRefusal("unsupported protocol version 2"));
}

}  // namespace
}  // namespace noa::transport
