#include "agent/lazy/lazy_library.h"

#include <archive.h>
#include <arpa/inet.h>
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "agent/lazy/lazy_libs.h"

namespace noa::agent::lazy {
namespace {

TEST(LazyLibrary, MissingLibraryIsAClearError) {
  LazyLibrary missing("libnoa-does-not-exist.so.7", "testing", "noa-test-package");
  Status loaded = missing.load();
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(loaded.message().find("cannot load libnoa-does-not-exist.so.7 (needed for testing): "),
            std::string::npos)
      << loaded.message();
  EXPECT_NE(loaded.message().find("; install noa-test-package"), std::string::npos);
  EXPECT_EQ(missing.load(), loaded);  // one attempt, the same answer afterwards
}

TEST(LazyLibraryDeathTest, SymbolOfAMissingLibraryAborts) {
  LazyLibrary missing("libnoa-does-not-exist.so.7", "testing", "noa-test-package");
  EXPECT_DEATH(missing.symbol("anything"), "cannot load libnoa-does-not-exist.so.7.*anything");
}

TEST(LazyLibraryDeathTest, MissingSymbolAborts) {
  LazyLibrary libpq("libpq.so.5", "testing", "libpq5");
  ASSERT_TRUE(libpq.load().ok());
  EXPECT_DEATH(libpq.symbol("PQnoSuchFunction"), "libpq.so.5 has no symbol PQnoSuchFunction");
}

// A port nothing listens on: bound (so nobody else takes it during the test) but not listening,
// so a connect is refused at once.
int closedPort(int& fd) {
  fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return -1;
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}

TEST(LibpqLazy, PingOfAClosedPortIsNoResponse) {
  ASSERT_TRUE(loadLibpq().ok());
  int fd = -1;
  const int port = closedPort(fd);
  ASSERT_GT(port, 0);
  const std::string conninfo =
      "host=127.0.0.1 port=" + std::to_string(port) + " connect_timeout=2 user=nobody";
  EXPECT_EQ(PQping(conninfo.c_str()), PQPING_NO_RESPONSE);
  ::close(fd);
}

TEST(LibpqLazy, ConninfoParseThroughTheShim) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse("host=db port=5433", &err);
  ASSERT_NE(opts, nullptr);
  std::string port;
  for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
    if (std::string(o->keyword) == "port" && o->val != nullptr) port = o->val;
  }
  PQconninfoFree(opts);
  EXPECT_EQ(port, "5433");
  EXPECT_EQ(PQconninfoParse("no_such_keyword=1", &err), nullptr);
  ASSERT_NE(err, nullptr);
  EXPECT_NE(std::string(err).find("no_such_keyword"), std::string::npos) << err;
  PQfreemem(err);
}

TEST(LibcryptoLazy, Sha256OfAbc) {
  ASSERT_TRUE(loadLibcrypto().ok());
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ASSERT_NE(ctx, nullptr);
  ASSERT_EQ(EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr), 1);
  ASSERT_EQ(EVP_DigestUpdate(ctx, "abc", 3), 1);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  ASSERT_EQ(EVP_DigestFinal_ex(ctx, digest, &len), 1);
  EVP_MD_CTX_free(ctx);
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    static constexpr char kHex[] = "0123456789abcdef";
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xf];
  }
  EXPECT_EQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(LibarchiveLazy, VersionAndErrorThroughTheShim) {
  ASSERT_TRUE(loadLibarchive().ok());
  EXPECT_EQ(std::string(archive_version_string()).rfind("libarchive ", 0), 0u);
  struct archive* a = archive_read_new();
  ASSERT_NE(a, nullptr);
  archive_set_error(a, 5, "formatted %d %s", 42, "here");  // variadic: formatted in the shim
  EXPECT_STREQ(archive_error_string(a), "formatted 42 here");
  archive_read_free(a);
}

}  // namespace
}  // namespace noa::agent::lazy
