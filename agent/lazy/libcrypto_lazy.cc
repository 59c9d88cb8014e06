// libcrypto on first use: the EVP calls behind Sha256 (agent/actions/artifact_file.cc),
// forwarded to libcrypto.so.3 (see lazy_forward.h). EVP rather than libsodium's SHA-256 because
// OpenSSL's uses the CPU's SHA extensions, which matters when hashing multi-GB backups.

#include <openssl/evp.h>

#include "agent/lazy/lazy_forward.h"
#include "agent/lazy/lazy_libs.h"

namespace noa::agent::lazy {
namespace {
LazyLibrary& libcrypto() {
  static LazyLibrary library("libcrypto.so.3", "artifact hashing", "libssl3");
  return library;
}
}  // namespace

Status loadLibcrypto() { return libcrypto().load(); }

}  // namespace noa::agent::lazy

#define CRYPTO_FORWARD(ret, name, params, args) \
  NOA_LAZY_FORWARD(noa::agent::lazy::libcrypto(), ret, name, params, args)

// clang-format off
CRYPTO_FORWARD(EVP_MD_CTX*, EVP_MD_CTX_new, (void), ())
CRYPTO_FORWARD(void, EVP_MD_CTX_free, (EVP_MD_CTX* ctx), (ctx))
CRYPTO_FORWARD(int, EVP_DigestInit_ex, (EVP_MD_CTX* ctx, const EVP_MD* type, ENGINE* impl), (ctx, type, impl))
CRYPTO_FORWARD(int, EVP_DigestUpdate, (EVP_MD_CTX* ctx, const void* d, size_t cnt), (ctx, d, cnt))
CRYPTO_FORWARD(int, EVP_DigestFinal_ex, (EVP_MD_CTX* ctx, unsigned char* md, unsigned int* s), (ctx, md, s))
CRYPTO_FORWARD(const EVP_MD*, EVP_sha256, (void), ())
// clang-format on
