#include "controller/api/auth/token_file.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "controller/api/auth/base64url.h"

namespace noa::controller::api {
namespace {

std::string_view trim(std::string_view s) {
  const size_t begin = s.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return {};
  const size_t end = s.find_last_not_of(" \t\r");
  return s.substr(begin, end - begin + 1);
}

std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

bool parseHex(std::string_view hex, Sha256& out) {
  if (hex.size() != 64) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < 32; ++i) {
    const int hi = nibble(hex[2 * i]);
    const int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return true;
}

Result<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::NotFound("cannot read tokens file '" + path + "': " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

Sha256 sha256(std::string_view data) {
  Sha256 out{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

std::string toHex(const Sha256& digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 0xF];
  }
  return out;
}

bool validTokenName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '@' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<std::vector<StaticToken>> parseTokensFile(std::string_view text, const std::string& file) {
  std::vector<StaticToken> tokens;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (const size_t hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    line = trim(line);
    if (line.empty()) continue;
    // The line's content is never echoed: someone may have pasted a token instead of its hash.
    const std::string where = file + ":" + std::to_string(line_no) + ": ";
    const auto parts = fields(line);
    if (parts.size() != 3) {
      return Status::InvalidArgument(where + "expected 'NAME ROLE SHA256HEX', got " +
                                     std::to_string(parts.size()) + " fields");
    }
    StaticToken token;
    if (!validTokenName(parts[0])) {
      return Status::InvalidArgument(where + "NAME must be 1-64 of [A-Za-z0-9._@-]");
    }
    token.name = std::string(parts[0]);
    auto role = parseTokenRole(parts[1]);
    if (!role.ok()) return Status::InvalidArgument(where + role.status().message());
    token.role = *role;
    if (!parseHex(parts[2], token.hash)) {
      return Status::InvalidArgument(
          where + "the third field must be the token's SHA-256 as 64 hex digits, not the token");
    }
    for (const StaticToken& other : tokens) {
      if (other.name == token.name) {
        return Status::InvalidArgument(where + "duplicate NAME '" + token.name + "'");
      }
    }
    tokens.push_back(std::move(token));
  }
  return tokens;
}

Result<std::vector<StaticToken>> loadTokensFile(const std::string& path) {
  NOA_ASSIGN_OR_RETURN(std::string text, readFile(path));
  return parseTokensFile(text, path);
}

const StaticToken* findStaticToken(const std::vector<StaticToken>& tokens, std::string_view token) {
  const Sha256 presented = sha256(token);
  const StaticToken* found = nullptr;
  for (const StaticToken& candidate : tokens) {
    const bool same = CRYPTO_memcmp(candidate.hash.data(), presented.data(), presented.size()) == 0;
    if (same && found == nullptr) found = &candidate;
  }
  return found;
}

Result<std::string> generateToken() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    return Status::Internal("the system random number generator failed");
  }
  std::string token = base64UrlEncode(std::string_view(reinterpret_cast<char*>(bytes), 32));
  OPENSSL_cleanse(bytes, sizeof(bytes));
  return token;
}

Status appendStaticToken(const std::string& path, const std::string& name, Role role,
                         std::string_view token) {
  if (!validTokenName(name)) {
    return Status::InvalidArgument("--name must be 1-64 of [A-Za-z0-9._@-]");
  }
  if (role == Role::kPublic) return Status::InvalidArgument("a token cannot have role public");
  // O_CREAT with 0600: the file holds only hashes, but who may call the API is nobody else's
  // business.
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::IoError("cannot open tokens file '" + path + "': " + std::strerror(errno));
  }
  auto existing = loadTokensFile(path);
  if (!existing.ok()) {
    ::close(fd);
    return existing.status();
  }
  for (const StaticToken& t : *existing) {
    if (t.name == name) {
      ::close(fd);
      return Status::AlreadyExists("tokens file '" + path + "' already has a token named '" + name +
                                   "'");
    }
  }
  // A file whose last line lacks its newline would glue our line onto it.
  std::string line;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    std::ifstream in(path, std::ios::binary);
    in.seekg(-1, std::ios::end);
    if (in.get() != '\n') line += '\n';
  }
  line += name + " " + std::string(roleName(role)) + " " + toHex(sha256(token)) + "\n";
  const ssize_t written = ::write(fd, line.data(), line.size());
  const int saved = errno;
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (written != static_cast<ssize_t>(line.size()) || !synced) {
    return Status::IoError("cannot write tokens file '" + path + "': " + std::strerror(saved));
  }
  return Status::Ok();
}

}  // namespace noa::controller::api
