#pragma once

// One blocking hiredis connection for the Redis replication commands (REPLICAOF, ROLE, CLIENT
// PAUSE/UNPAUSE, INFO): connect with a timeout, AUTH when a password is given, then commands in
// argv form with each reply bounded by the same timeout. Redis error replies become
// FailedPrecondition carrying redis's text; connection problems become Unavailable.

#include <hiredis/hiredis.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace noa::agent::replication {

struct RedisEndpoint {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string password;  // never logged
  std::chrono::milliseconds timeout{5000};
};

// A reply reduced to what the callers read: strings, integers, arrays of those.
struct RedisValue {
  enum class Type { kNil, kString, kInteger, kArray, kStatus };
  Type type = Type::kNil;
  std::string str;
  long long integer = 0;
  std::vector<RedisValue> elements;
};

class RedisSession {
 public:
  // Unavailable with `refused` set when nothing listens on host:port.
  static Result<std::unique_ptr<RedisSession>> connect(const RedisEndpoint& endpoint,
                                                       bool* refused = nullptr);
  ~RedisSession();
  RedisSession(const RedisSession&) = delete;
  RedisSession& operator=(const RedisSession&) = delete;

  Result<RedisValue> command(const std::vector<std::string>& args);
  // INFO <section> parsed into key -> value.
  Result<std::map<std::string, std::string>> info(const std::string& section);
  void setTimeout(std::chrono::milliseconds timeout);

 private:
  explicit RedisSession(redisContext* ctx) : ctx_(ctx) {}
  redisContext* ctx_;
};

// "role:master\r\nconnected_slaves:0\r\n" -> {role: master, connected_slaves: 0}
std::map<std::string, std::string> parseRedisInfo(const std::string& text);

}  // namespace noa::agent::replication
