#pragma once

// CURVE key pairs of the agent channel (ZeroMQ RFC 26) and the files that keep them.
//
// Keys are Z85 text (40 characters for 32 bytes). A key pair lives in a directory as two files:
// `<name>.key` holds the secret key and must be readable by its owner only (mode 0600; a file
// that group or others can read is refused, never "fixed", so the operator learns it leaked),
// `<name>.pub` holds the public key for operators to copy. Each file is one line of Z85; blank
// lines and lines starting with '#' are ignored.
//
// A key id is the lowercase hex of the first 8 bytes of SHA-256 over the 32 raw public-key
// bytes (16 characters): short enough to type in `noactl keys accept ID`, long enough that two
// agents of one fleet do not collide by chance.
//
// Secret keys are never logged and never part of an error message.

#include <string>
#include <string_view>

#include "common/status.h"

namespace noa::transport {

inline constexpr size_t kZ85KeyChars = 40;
inline constexpr size_t kKeyIdChars = 16;

struct CurveKeyPair {
  std::string public_key;  // Z85
  std::string secret_key;  // Z85
};

// A fresh key pair from libzmq (libsodium/tweetnacl underneath).
Result<CurveKeyPair> generateKeyPair();

// True when `key` is 40 characters of the Z85 alphabet that decode to 32 bytes.
bool isValidKey(std::string_view key);

// The public key of a secret key. InvalidArgument when `secret_key` is not a valid key.
Result<std::string> publicKeyOf(std::string_view secret_key);

// The 32 raw bytes of a Z85 key; InvalidArgument when it is not a valid key.
Result<std::string> decodeKey(std::string_view key);
// Z85 of 32 raw bytes.
std::string encodeKey(std::string_view raw32);

// Key id of a Z85 public key (see above). InvalidArgument when it is not a valid key.
Result<std::string> keyIdOf(std::string_view public_key);
// Key id of 32 raw public-key bytes.
std::string keyIdOfRaw(std::string_view raw32);

// Reads `<dir>/<name>.key` and `<dir>/<name>.pub`. Errors:
//   NotFound            no secret file
//   PermissionDenied    the secret file is readable by group or others (names the file, says
//                       `chmod 600`)
//   InvalidArgument     a file does not hold a valid key, or the public file does not match
//                       the secret one
//   IoError             unreadable
Result<CurveKeyPair> loadKeyPair(const std::string& dir, const std::string& name);

// loadKeyPair, or when there is no secret file yet, generates a pair and writes both files
// (the directory is created with mode 0700 when missing; the secret file is written 0600
// through a temporary file and a rename, so a crash never leaves half a key). `created` tells
// which happened.
Result<CurveKeyPair> loadOrCreateKeyPair(const std::string& dir, const std::string& name,
                                         bool* created = nullptr);

// Writes a given pair (as loadOrCreateKeyPair would); AlreadyExists when a secret file exists.
Status writeKeyPair(const std::string& dir, const std::string& name, const CurveKeyPair& pair);

// Reads a public-key file (one Z85 line, '#' comments).
Result<std::string> readPublicKeyFile(const std::string& path);

// Bye reasons the controller uses when it refuses a key (schemas/protocol-v1.md, "Security").
// The agent recognises them by prefix and backs off instead of retrying at its report interval.
inline constexpr std::string_view kByeKeyPrefix = "key ";
inline constexpr std::string_view kByeKeyRevoked = "key revoked";
// "key <id> awaits enrollment: noactl keys accept <id>"
std::string byeAwaitingEnrollment(std::string_view key_id);
inline bool isKeyRefusal(std::string_view bye_reason) {
  return bye_reason.substr(0, kByeKeyPrefix.size()) == kByeKeyPrefix;
}

}  // namespace noa::transport
