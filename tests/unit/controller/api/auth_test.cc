// Authentication pieces without HTTP: static tokens file, JWT verification, the Authorization
// header, the per-actor rate limit and the security flags.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "controller/api/auth/api_security_config.h"
#include "controller/api/auth/authenticator.h"
#include "controller/api/auth/base64url.h"
#include "controller/api/auth/jwt_verifier.h"
#include "controller/api/auth/rate_limiter.h"
#include "controller/api/auth/token_file.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/controller/api/test_tokens.h"

namespace noa::controller::api {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using noa::testing::claimsFor;
using noa::testing::kHsSecret;
using noa::testing::signJwt;
using noa::testing::unsignedJwt;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class TempFile {
 public:
  TempFile() {
    char path[] = "/tmp/noa-auth-test-XXXXXX";
    dir_ = mkdtemp(path);
  }
  ~TempFile() { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path(name)) << text;
    return path(name);
  }

 private:
  std::string dir_;
};

TEST(Base64Url, RoundTripsWithoutPadding) {
  for (const std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\x00"}) {
    const std::string encoded = base64UrlEncode(s);
    EXPECT_EQ(encoded.find('='), std::string::npos);
    EXPECT_EQ(base64UrlDecode(encoded), s);
  }
  EXPECT_EQ(base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_FALSE(base64UrlDecode("a+b/").has_value());
  EXPECT_FALSE(base64UrlDecode("abcde").has_value());
}

TEST(TokenFile, ParsesLinesCommentsAndHashes) {
  const std::string hash = toHex(sha256("secret-token"));
  EXPECT_EQ(toHex(sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  auto tokens = parseTokensFile("# who may call\n\nalice admin " + hash +
                                    "  # on-call\n  bob\tviewer " + toHex(sha256("b")) + "\n",
                                "tokens");
  ASSERT_OK(tokens);
  ASSERT_EQ(tokens->size(), 2u);
  EXPECT_EQ((*tokens)[0].name, "alice");
  EXPECT_EQ((*tokens)[0].role, Role::kAdmin);
  EXPECT_EQ((*tokens)[1].role, Role::kViewer);
  const StaticToken* found = findStaticToken(*tokens, "secret-token");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->name, "alice");
  EXPECT_EQ(findStaticToken(*tokens, "secret-tokem"), nullptr);
  EXPECT_EQ(findStaticToken(*tokens, ""), nullptr);
}

TEST(TokenFile, BadLinesNameFileAndLineButNeverTheirContent) {
  const std::string hash = toHex(sha256("x"));
  struct Case {
    std::string text;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"alice admin\n", "f:1: expected 'NAME ROLE SHA256HEX'"},
      {"\n\nalice root " + hash, "f:3: unknown role 'root'"},
      {"alice public " + hash, "unknown role 'public'"},
      {"alice admin pasted-the-token-itself", "f:1: the third field must be the token's SHA-256"},
      {"al/ice admin " + hash, "f:1: NAME must be"},
      {"a admin " + hash + "\na viewer " + hash, "f:2: duplicate NAME 'a'"},
      {"a admin " + hash + " extra", "f:1: expected"},
  };
  for (const Case& c : cases) {
    auto parsed = parseTokensFile(c.text, "f");
    ASSERT_FALSE(parsed.ok()) << c.text;
    EXPECT_TRUE(contains(parsed.status().message(), c.expected)) << parsed.status().message();
    EXPECT_FALSE(contains(parsed.status().message(), "pasted")) << parsed.status().message();
  }
}

TEST(TokenFile, NewTokensAreRandomAndAppendedAsHashesToA0600File) {
  TempFile dir;
  const std::string path = dir.path("tokens");
  auto first = generateToken();
  auto second = generateToken();
  ASSERT_OK(first);
  ASSERT_OK(second);
  EXPECT_EQ(first->size(), 43u);
  EXPECT_NE(*first, *second);
  ASSERT_OK(appendStaticToken(path, "alice", Role::kOperator, *first));
  ASSERT_OK(appendStaticToken(path, "bob", Role::kViewer, *second));
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_FALSE(contains(text, *first));
  EXPECT_TRUE(contains(text, "alice operator " + toHex(sha256(*first)) + "\n"));
  auto loaded = loadTokensFile(path);
  ASSERT_OK(loaded);
  ASSERT_EQ(loaded->size(), 2u);
  EXPECT_EQ(findStaticToken(*loaded, *second)->name, "bob");

  EXPECT_EQ(appendStaticToken(path, "alice", Role::kAdmin, "x").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(appendStaticToken(path, "bad name", Role::kAdmin, "x").code(),
            StatusCode::kInvalidArgument);
  // A last line without its newline is not glued to the next one.
  const std::string bare = dir.write("bare", "carol admin " + toHex(sha256("c")));
  ASSERT_OK(appendStaticToken(bare, "dave", Role::kAdmin, "d"));
  ASSERT_OK(loadTokensFile(bare));
  EXPECT_EQ(loadTokensFile(bare)->size(), 2u);
}

class JwtTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = new noa::testing::RsaKeyPair(noa::testing::makeRsaKeyPair());
  }
  static void TearDownTestSuite() { delete rsa_; }

  JwtVerifier hs() { return JwtVerifier::create({kHsSecret, "", "", "", 30s}).value(); }
  JwtVerifier rs() { return JwtVerifier::create({"", rsa_->public_pem, "", "", 30s}).value(); }
  Result<Caller> verify(const JwtVerifier& v, const std::string& token) {
    return v.verify(token, clock_.wallNow());
  }
  int64_t now() const { return toUnixMillis(clock_.wallNow()) / 1000; }

  static noa::testing::RsaKeyPair* rsa_;
  noa::testing::FakeClock clock_;
};
noa::testing::RsaKeyPair* JwtTest::rsa_ = nullptr;

void expectRefused(const Result<Caller>& result, const std::string& why) {
  ASSERT_FALSE(result.ok()) << why;
  EXPECT_EQ(result.status().code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(contains(result.status().message(), why)) << result.status().message();
}

TEST_F(JwtTest, Hs256AndRs256TokensAreAccepted) {
  auto caller =
      verify(hs(), signJwt(JWT_ALG_HS256, kHsSecret, claimsFor("alice", "operator", now())));
  ASSERT_OK(caller);
  EXPECT_EQ(caller->actor, "alice");
  EXPECT_EQ(caller->role, Role::kOperator);
  EXPECT_EQ(caller->kind, AuthKind::kJwt);

  auto rsa =
      verify(rs(), signJwt(JWT_ALG_RS256, rsa_->private_pem, claimsFor("bob", "admin", now())));
  ASSERT_OK(rsa);
  EXPECT_EQ(rsa->actor, "bob");
  EXPECT_EQ(rsa->role, Role::kAdmin);
}

TEST_F(JwtTest, ExpiryAndNotBeforeHonourThirtySecondsLeeway) {
  json claims = claimsFor("a", "viewer", now());
  claims["exp"] = now() - 29;
  EXPECT_OK(verify(hs(), signJwt(JWT_ALG_HS256, kHsSecret, claims)));
  claims["exp"] = now() - 31;
  expectRefused(verify(hs(), signJwt(JWT_ALG_HS256, kHsSecret, claims)), "token expired");
  claims.erase("exp");
  expectRefused(verify(hs(), signJwt(JWT_ALG_HS256, kHsSecret, claims)), "no 'exp'");

  claims = claimsFor("a", "viewer", now());
  claims["nbf"] = now() + 29;
  EXPECT_OK(verify(hs(), signJwt(JWT_ALG_HS256, kHsSecret, claims)));
  claims["nbf"] = now() + 31;
  const std::string early = signJwt(JWT_ALG_HS256, kHsSecret, claims);
  expectRefused(verify(hs(), early), "not valid yet");
  clock_.advance(2s);
  EXPECT_OK(verify(hs(), early));
}

TEST_F(JwtTest, WrongSignatureAlgNoneAndAlgConfusionAreRefused) {
  const json claims = claimsFor("mallory", "admin", now());
  expectRefused(
      verify(hs(), signJwt(JWT_ALG_HS256, "another-secret-of-at-least-32-bytes!", claims)),
      "bad token signature");
  std::string tampered = signJwt(JWT_ALG_HS256, kHsSecret, claimsFor("mallory", "viewer", now()));
  const size_t dot1 = tampered.find('.');
  const size_t dot2 = tampered.find('.', dot1 + 1);
  tampered = tampered.substr(0, dot1 + 1) + base64UrlEncode(claims.dump()) + tampered.substr(dot2);
  expectRefused(verify(hs(), tampered), "bad token signature");

  for (const std::string alg : {"none", "None", "NONE", ""}) {
    expectRefused(verify(hs(), unsignedJwt(claims, alg)), "is not accepted");
    expectRefused(verify(rs(), unsignedJwt(claims, alg)), "is not accepted");
  }
  // The RSA public key used as an HMAC secret (alg confusion) when only RS256 is configured.
  expectRefused(verify(rs(), signJwt(JWT_ALG_HS256, rsa_->public_pem, claims)),
                "algorithm 'HS256' is not accepted");
  // And an RS256 token when only HS256 is configured.
  expectRefused(verify(hs(), signJwt(JWT_ALG_RS256, rsa_->private_pem, claims)),
                "algorithm 'RS256' is not accepted");
  expectRefused(verify(hs(), signJwt(JWT_ALG_HS512, kHsSecret, claims)), "'HS512' is not accepted");
  expectRefused(verify(hs(), "a.b"), "malformed");
  expectRefused(verify(hs(), "a.b.c.d"), "malformed");
  expectRefused(verify(hs(), "!!.b.c"), "malformed token header");
}

TEST_F(JwtTest, RoleSubjectIssuerAndAudienceAreChecked) {
  json claims = claimsFor("a", "viewer", now());
  claims.erase("role");
  expectRefused(verify(hs(), signJwt(JWT_ALG_HS256, kHsSecret, claims)), "no 'role'");
  claims["role"] = "root";
  expectRefused(verify(hs(), signJwt(JWT_ALG_HS256, kHsSecret, claims)), "'role' must be");
  claims["role"] = "public";
  expectRefused(verify(hs(), signJwt(JWT_ALG_HS256, kHsSecret, claims)), "'role' must be");
  claims = claimsFor("", "viewer", now());
  expectRefused(verify(hs(), signJwt(JWT_ALG_HS256, kHsSecret, claims)), "'sub'");

  auto strict = JwtVerifier::create({kHsSecret, "", "https://idp", "noa", 30s}).value();
  claims = claimsFor("a", "viewer", now());
  expectRefused(verify(strict, signJwt(JWT_ALG_HS256, kHsSecret, claims)), "issuer");
  claims["iss"] = "https://idp";
  expectRefused(verify(strict, signJwt(JWT_ALG_HS256, kHsSecret, claims)), "audience");
  claims["aud"] = json::array({"other", "noa"});
  EXPECT_OK(verify(strict, signJwt(JWT_ALG_HS256, kHsSecret, claims)));
  claims["aud"] = "noa";
  EXPECT_OK(verify(strict, signJwt(JWT_ALG_HS256, kHsSecret, claims)));
}

TEST_F(JwtTest, CreateRefusesWeakOrMissingKeys) {
  EXPECT_FALSE(JwtVerifier::create({}).ok());
  EXPECT_FALSE(JwtVerifier::create({"short", "", "", "", 30s}).ok());
  EXPECT_FALSE(JwtVerifier::create({"", "not a pem", "", "", 30s}).ok());
  EXPECT_FALSE(JwtVerifier::create({"", rsa_->private_pem, "", "", 30s}).ok())
      << "a private key is not what the controller should hold";
}

TEST(Authenticator, ReadsBearerHeadersWithoutEchoingTokens) {
  auto auth = noa::testing::makeTestAuthenticator();
  noa::testing::FakeClock clock;
  auto caller = auth->authenticate("Bearer operator-token", clock.wallNow());
  ASSERT_OK(caller);
  EXPECT_EQ(caller->actor, "o");
  EXPECT_EQ(caller->role, Role::kOperator);
  EXPECT_EQ(caller->kind, AuthKind::kStaticToken);
  EXPECT_OK(auth->authenticate("bearer  admin-token ", clock.wallNow()));
  const int64_t now_s = toUnixMillis(clock.wallNow()) / 1000;
  auto jwt = auth->authenticate(
      "Bearer " + signJwt(JWT_ALG_HS256, kHsSecret, claimsFor("ci", "viewer", now_s)),
      clock.wallNow());
  ASSERT_OK(jwt);
  EXPECT_EQ(jwt->actor, "ci");

  for (const std::string header :
       {"", "Bearer", "Bearer ", "Basic YWRtaW4tdG9rZW4=", "admin-token", "Bearer admin-tokenX"}) {
    auto refused = auth->authenticate(header, clock.wallNow());
    ASSERT_FALSE(refused.ok()) << header;
    EXPECT_EQ(refused.status().code(), StatusCode::kUnauthenticated);
    EXPECT_FALSE(contains(refused.status().message(), "admin-token"));
  }
  Authenticator static_only({{"a", Role::kAdmin, sha256("t")}}, std::nullopt);
  EXPECT_TRUE(contains(static_only.authenticate("Bearer a.b.c", clock.wallNow()).status().message(),
                       "JWTs are not accepted"));
}

TEST(RateLimiter, BurstThenRefillPerActorWithRetryAfter) {
  noa::testing::FakeClock clock;
  RateLimiter limiter({5, 20, 100}, clock);
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(limiter.acquire("alice").has_value()) << i;
  auto wait = limiter.acquire("alice");
  ASSERT_TRUE(wait.has_value());
  EXPECT_EQ(*wait, 1s);
  EXPECT_FALSE(limiter.acquire("bob").has_value()) << "buckets are per actor";
  clock.advance(200ms);
  EXPECT_FALSE(limiter.acquire("alice").has_value());
  EXPECT_TRUE(limiter.acquire("alice").has_value());
  clock.advance(10s);
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(limiter.acquire("alice").has_value()) << i;
  EXPECT_TRUE(limiter.acquire("alice").has_value());

  RateLimiter slow({0.1, 1, 100}, clock);
  EXPECT_FALSE(slow.acquire("x").has_value());
  EXPECT_EQ(slow.acquire("x"), 10s);
}

TEST(RateLimiter, BoundedNumberOfActors) {
  noa::testing::FakeClock clock;
  RateLimiter limiter({1, 2, 2}, clock);
  EXPECT_FALSE(limiter.acquire("a").has_value());
  EXPECT_FALSE(limiter.acquire("b").has_value());
  EXPECT_TRUE(limiter.acquire("c").has_value()) << "full of busy actors";
  clock.advance(5s);  // a and b refilled: dropped to make room
  EXPECT_FALSE(limiter.acquire("c").has_value());
}

class SecurityFlagsTest : public ::testing::Test {
 protected:
  void TearDown() override { unsetenv(kHs256SecretEnv); }

  Status parse(std::vector<std::string> args, const std::string& host = "127.0.0.1") {
    po::options_description desc;
    addApiSecurityFlags(desc);
    std::vector<const char*> argv = {"noa-controller"};
    for (const auto& a : args) argv.push_back(a.c_str());
    po::variables_map vm;
    po::store(po::parse_command_line(static_cast<int>(argv.size()), argv.data(), desc), vm);
    po::notify(vm);
    config_ = ApiSecurityConfig{};
    return parseApiSecurityFlags(vm, host, config_);
  }

  TempFile dir_;
  ApiSecurityConfig config_;
};

TEST_F(SecurityFlagsTest, ATokenSourceIsRequiredUnlessAuthNoneOnLoopback) {
  Status none = parse({});
  EXPECT_TRUE(contains(none.message(), "needs a token source")) << none.message();
  EXPECT_OK(parse({"--api-auth", "none"}));
  EXPECT_EQ(config_.authenticator, nullptr);
  EXPECT_TRUE(contains(parse({"--api-auth", "none", "--api-allow-plain-http"}, "0.0.0.0").message(),
                       "loopback"));
  EXPECT_FALSE(parse({"--api-auth", "maybe"}).ok());

  const std::string tokens = dir_.write("tokens", "ops operator " + toHex(sha256("t")) + "\n");
  ASSERT_OK(parse({"--api-tokens-file", tokens}));
  ASSERT_NE(config_.authenticator, nullptr);
  EXPECT_EQ(config_.authenticator->staticTokenCount(), 1u);
  EXPECT_TRUE(contains(parse({"--api-auth", "none", "--api-tokens-file", tokens}).message(),
                       "contradicts"));

  const std::string bad = dir_.write("bad", "ops operator " + toHex(sha256("t")) + "\nx y\n");
  EXPECT_TRUE(contains(parse({"--api-tokens-file", bad}).message(), bad + ":2:"));
  EXPECT_TRUE(contains(parse({"--api-tokens-file", dir_.path("missing")}).message(),
                       "cannot read tokens file"));
}

TEST_F(SecurityFlagsTest, PlainHttpOnlyOnLoopbackUnlessAllowed) {
  const std::string tokens = dir_.write("tokens", "ops operator " + toHex(sha256("t")) + "\n");
  EXPECT_TRUE(contains(parse({"--api-tokens-file", tokens}, "0.0.0.0").message(),
                       "--api-allow-plain-http"));
  EXPECT_OK(parse({"--api-tokens-file", tokens, "--api-allow-plain-http"}, "0.0.0.0"));
  EXPECT_OK(
      parse({"--api-tokens-file", tokens, "--api-tls-cert-file", "c", "--api-tls-key-file", "k"},
            "10.0.0.1"));
  EXPECT_FALSE(parse({"--api-tokens-file", tokens, "--api-tls-cert-file", "c"}).ok());
  EXPECT_TRUE(isLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(isLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(isLoopbackHost("::1"));
  EXPECT_TRUE(isLoopbackHost("localhost"));
  EXPECT_FALSE(isLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(isLoopbackHost("128.0.0.1"));
}

TEST_F(SecurityFlagsTest, Hs256SecretFromEnvOrFileNeverShown) {
  const std::string secret = "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-42";
  setenv(kHs256SecretEnv, secret.c_str(), 1);
  ASSERT_OK(parse({}));
  EXPECT_EQ(config_.jwt_hs256_secret, secret);
  std::string shown = toJson(config_).dump();
  EXPECT_FALSE(contains(shown, secret)) << shown;
  EXPECT_TRUE(
      contains(shown, "\"api_jwt_hs256_secret\":\"set (from env NOA_API_JWT_HS256_SECRET)\""))
      << shown;
  const std::string file = dir_.write("secret", secret + "\n");
  EXPECT_TRUE(contains(parse({"--api-jwt-hs256-secret-file", file}).message(), "not both"));
  unsetenv(kHs256SecretEnv);
  ASSERT_OK(parse({"--api-jwt-hs256-secret-file", file}));
  EXPECT_EQ(config_.jwt_hs256_secret, secret) << "the trailing newline is not part of it";
  shown = toJson(config_).dump();
  EXPECT_FALSE(contains(shown, secret));
  EXPECT_TRUE(contains(shown, "set (from file " + file + ")"));
  EXPECT_TRUE(
      contains(parse({"--api-jwt-hs256-secret-file", dir_.write("weak", "short")}).message(),
               "at least 32 bytes"));
}

}  // namespace
}  // namespace noa::controller::api
