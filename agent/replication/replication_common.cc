#include "agent/replication/replication_common.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace noa::agent::replication {

std::chrono::milliseconds Deadline::left(std::chrono::milliseconds cap) const {
  if (unlimited_) return cap;
  auto rest = std::chrono::duration_cast<std::chrono::milliseconds>(
      end_ - std::chrono::steady_clock::now());
  return std::max(std::chrono::milliseconds(1), std::min(rest, cap));
}

std::string conninfoValue(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

std::string primaryConninfo(const std::string& host, int port, const std::string& user,
                            const std::string& application_name, const std::string& password) {
  std::string out = "host=" + conninfoValue(host) + " port=" + std::to_string(port) +
                    " user=" + conninfoValue(user);
  if (!application_name.empty()) out += " application_name=" + conninfoValue(application_name);
  if (!password.empty()) out += " password=" + conninfoValue(password);
  // A dead primary must not hold the walreceiver in connect() for libpq's default (forever):
  // the startup process retries every wal_retrieve_retry_interval instead.
  out += " connect_timeout=5";
  return out;
}

std::string sqlLiteral(const std::string& value) {
  std::string out = "E'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out.push_back(c);
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

std::string confLiteral(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') {
      out += "''";
    } else if (c == '\\') {
      out += "\\\\";
    } else {
      out.push_back(c);
    }
  }
  out.push_back('\'');
  return out;
}

std::string setAutoConfValue(const std::string& text, const std::string& key,
                             const std::string& quoted_value) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line)) {
    size_t i = line.find_first_not_of(" \t");
    bool same_key = false;
    if (i != std::string::npos && line.compare(i, key.size(), key) == 0) {
      size_t j = i + key.size();
      // "primary_conninfo_x = .." is another key; "primary_conninfo = .." / "primary_conninfo=.."
      // / "primary_conninfo '..'" are this one.
      same_key = j == line.size() || line[j] == ' ' || line[j] == '\t' || line[j] == '=' ||
                 line[j] == '\'';
    }
    if (!same_key) out += line + "\n";
  }
  out += key + " = " + quoted_value + "\n";
  return out;
}

Result<std::string> readSecretFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::InvalidArgument("password file '" + path +
                                   "': cannot read it: " + std::strerror(errno));
  }
  std::ostringstream content;
  content << in.rdbuf();
  std::string secret = content.str();
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  if (secret.empty()) return Status::InvalidArgument("password file '" + path + "' is empty");
  return secret;
}

}  // namespace noa::agent::replication
