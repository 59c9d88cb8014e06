#include "controller/security/allowlist.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "common/transport/curve_keys.h"

namespace noa::controller {

bool isValidAgentId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<std::vector<AllowlistEntry>> parseAllowlist(std::string_view text,
                                                   const std::string& file_name) {
  std::vector<AllowlistEntry> out;
  std::set<std::string> agents;
  std::set<std::string> keys;
  std::istringstream in{std::string(text)};
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    const std::string where = file_name + ":" + std::to_string(number);
    std::istringstream fields(line);
    std::string agent_id, key, extra;
    if (!(fields >> agent_id) || agent_id[0] == '#') continue;
    if (!(fields >> key)) {
      return Status::InvalidArgument(where + ": expected 'AGENT_ID Z85_PUBLIC_KEY'");
    }
    if (fields >> extra && extra[0] != '#') {
      return Status::InvalidArgument(where + ": unexpected '" + extra +
                                     "' after the key (expected 'AGENT_ID Z85_PUBLIC_KEY')");
    }
    if (!isValidAgentId(agent_id)) {
      return Status::InvalidArgument(where + ": agent id '" + agent_id +
                                     "' must match [A-Za-z0-9._-]{1,64}");
    }
    auto key_id = transport::keyIdOf(key);
    if (!key_id.ok()) {
      return Status::InvalidArgument(where + ": " + key_id.status().message());
    }
    if (!agents.insert(agent_id).second) {
      return Status::InvalidArgument(where + ": agent id '" + agent_id + "' is listed twice");
    }
    if (!keys.insert(*key_id).second) {
      return Status::InvalidArgument(where + ": key " + *key_id + " is listed twice");
    }
    out.push_back({agent_id, key, *key_id, number});
  }
  return out;
}

Result<std::optional<std::vector<AllowlistEntry>>> AllowlistFile::readIfChanged() {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::NotFound("allowlist file " + path_ + " does not exist");
    return Status::IoError("cannot read allowlist file " + path_ + ": " + std::strerror(errno));
  }
  const int64_t mtime_ns =
      static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  if (read_once_ && mtime_ns == mtime_ns_ && st.st_size == size_) {
    return std::optional<std::vector<AllowlistEntry>>();
  }
  std::ifstream in(path_);
  if (!in) return Status::IoError("cannot read allowlist file " + path_);
  std::stringstream text;
  text << in.rdbuf();
  NOA_ASSIGN_OR_RETURN(auto entries, parseAllowlist(text.str(), path_));
  read_once_ = true;
  mtime_ns_ = mtime_ns;
  size_ = st.st_size;
  return std::optional<std::vector<AllowlistEntry>>(std::move(entries));
}

}  // namespace noa::controller
