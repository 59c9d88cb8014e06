#include "common/transport/curve_keys.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace noa::transport {
namespace {

namespace fs = std::filesystem;

std::string secretPath(const std::string& dir, const std::string& name) {
  return (fs::path(dir) / (name + ".key")).string();
}
std::string publicPath(const std::string& dir, const std::string& name) {
  return (fs::path(dir) / (name + ".pub")).string();
}

// The first line that is neither blank nor a comment, trimmed.
Result<std::string> readKeyLine(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) return Status::NotFound("no key file " + path);
    return Status::IoError("cannot read " + path + ": " + std::strerror(errno));
  }
  for (std::string line; std::getline(in, line);) {
    const size_t begin = line.find_first_not_of(" \t\r");
    if (begin == std::string::npos || line[begin] == '#') continue;
    const size_t end = line.find_last_not_of(" \t\r");
    return line.substr(begin, end - begin + 1);
  }
  return Status::InvalidArgument(path + " holds no key");
}

Status writeFile(const std::string& path, const std::string& text, mode_t mode) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Status::IoError("cannot write " + tmp + ": " + std::strerror(errno));
  // open() applies the umask; the mode must be exact (0600 for secrets).
  bool ok = ::fchmod(fd, mode) == 0;
  ok = ok && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ok && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(tmp.c_str());
    return Status::IoError("cannot write " + tmp + ": " + std::strerror(saved));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return Status::IoError("cannot rename " + tmp + " to " + path + ": " + std::strerror(e));
  }
  return Status::Ok();
}

}  // namespace

Result<CurveKeyPair> generateKeyPair() {
  char pub[kZ85KeyChars + 1] = {};
  char sec[kZ85KeyChars + 1] = {};
  if (zmq_curve_keypair(pub, sec) != 0) {
    return Status::Unimplemented(std::string("libzmq cannot make CURVE keys: ") +
                                 zmq_strerror(zmq_errno()));
  }
  return CurveKeyPair{pub, sec};
}

Result<std::string> decodeKey(std::string_view key) {
  if (key.size() != kZ85KeyChars) {
    return Status::InvalidArgument("a CURVE key is 40 Z85 characters, got " +
                                   std::to_string(key.size()));
  }
  const std::string text(key);
  uint8_t raw[32];
  if (zmq_z85_decode(raw, text.c_str()) == nullptr) {
    return Status::InvalidArgument("not a Z85 CURVE key");
  }
  return std::string(reinterpret_cast<const char*>(raw), sizeof(raw));
}

std::string encodeKey(std::string_view raw32) {
  char out[kZ85KeyChars + 1] = {};
  if (raw32.size() != 32 ||
      zmq_z85_encode(out, reinterpret_cast<const uint8_t*>(raw32.data()), 32) == nullptr) {
    return "";
  }
  return out;
}

bool isValidKey(std::string_view key) { return decodeKey(key).ok(); }

Result<std::string> publicKeyOf(std::string_view secret_key) {
  if (!isValidKey(secret_key)) return Status::InvalidArgument("the secret key is not a valid key");
  const std::string secret(secret_key);
  char pub[kZ85KeyChars + 1] = {};
  if (zmq_curve_public(pub, secret.c_str()) != 0) {
    return Status::InvalidArgument("the secret key is not a valid key");
  }
  return std::string(pub);
}

std::string keyIdOfRaw(std::string_view raw32) {
  // libsodium's SHA-256, not OpenSSL's: libzmq already loads libsodium for CURVE, while
  // libcrypto would cost every agent ~1.5 MB RSS for this one hash (issue 4). Same digest.
  // sodium_init is idempotent and thread-safe; SHA-256 does not depend on its outcome.
  static const int sodium_ready = sodium_init();
  (void)sodium_ready;
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(raw32.data()), raw32.size());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  id.reserve(kKeyIdChars);
  for (size_t i = 0; i < kKeyIdChars / 2; ++i) {
    id.push_back(kHex[digest[i] >> 4]);
    id.push_back(kHex[digest[i] & 0xf]);
  }
  return id;
}

Result<std::string> keyIdOf(std::string_view public_key) {
  NOA_ASSIGN_OR_RETURN(std::string raw, decodeKey(public_key));
  return keyIdOfRaw(raw);
}

Result<CurveKeyPair> loadKeyPair(const std::string& dir, const std::string& name) {
  const std::string secret_file = secretPath(dir, name);
  struct stat st {};
  if (::stat(secret_file.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::NotFound("no secret key file " + secret_file);
    return Status::IoError("cannot read " + secret_file + ": " + std::strerror(errno));
  }
  if ((st.st_mode & 077) != 0) {
    return Status::PermissionDenied("the secret key file " + secret_file +
                                    " can be read by group or others; the key may have leaked. "
                                    "Make a new key pair, or if you are sure it did not leak: "
                                    "chmod 600 " +
                                    secret_file);
  }
  auto secret = readKeyLine(secret_file);
  if (!secret.ok()) return secret.status();
  auto derived = publicKeyOf(*secret);
  if (!derived.ok()) return Status::InvalidArgument(secret_file + " does not hold a valid key");
  CurveKeyPair pair{*derived, *secret};
  const std::string public_file = publicPath(dir, name);
  auto stored = readKeyLine(public_file);
  if (stored.ok() && *stored != pair.public_key) {
    return Status::InvalidArgument(public_file + " does not match " + secret_file + "; remove " +
                                   public_file + " to have it written again");
  }
  if (!stored.ok() && stored.status().code() == StatusCode::kNotFound) {
    // The public half can always be derived; write it back for the operator.
    NOA_RETURN_IF_ERROR(writeFile(public_file, pair.public_key + "\n", 0644));
  } else if (!stored.ok()) {
    return stored.status();
  }
  return pair;
}

Status writeKeyPair(const std::string& dir, const std::string& name, const CurveKeyPair& pair) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return Status::IoError("cannot create " + dir + ": " + ec.message());
    ::chmod(dir.c_str(), 0700);
  }
  const std::string secret_file = secretPath(dir, name);
  if (fs::exists(secret_file, ec)) return Status::AlreadyExists(secret_file + " exists");
  // Public file first: a crash in between leaves no secret, so the next start makes a new pair
  // and overwrites the public file.
  NOA_RETURN_IF_ERROR(writeFile(publicPath(dir, name), pair.public_key + "\n", 0644));
  return writeFile(secret_file,
                   "# noa CURVE secret key: keep it private (mode 0600)\n" + pair.secret_key + "\n",
                   0600);
}

Result<CurveKeyPair> loadOrCreateKeyPair(const std::string& dir, const std::string& name,
                                         bool* created) {
  if (created != nullptr) *created = false;
  auto loaded = loadKeyPair(dir, name);
  if (loaded.ok() || loaded.status().code() != StatusCode::kNotFound) return loaded;
  NOA_ASSIGN_OR_RETURN(CurveKeyPair pair, generateKeyPair());
  NOA_RETURN_IF_ERROR(writeKeyPair(dir, name, pair));
  if (created != nullptr) *created = true;
  return pair;
}

Result<std::string> readPublicKeyFile(const std::string& path) {
  NOA_ASSIGN_OR_RETURN(std::string key, readKeyLine(path));
  if (!isValidKey(key)) return Status::InvalidArgument(path + " does not hold a valid public key");
  return key;
}

std::string byeAwaitingEnrollment(std::string_view key_id) {
  const std::string id(key_id);
  return "key " + id + " awaits enrollment: noactl keys accept " + id;
}

}  // namespace noa::transport
