#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <sstream>

#include "agent/probes/checks.h"

namespace noa::agent {
namespace {

using std::chrono::milliseconds;
using SteadyTime = std::chrono::steady_clock::time_point;

struct RedisCloser {
  void operator()(redisContext* c) const { redisFree(c); }
};
struct ReplyFreer {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using RedisConn = std::unique_ptr<redisContext, RedisCloser>;
using Reply = std::unique_ptr<redisReply, ReplyFreer>;

timeval remaining(SteadyTime deadline) {
  auto left = std::chrono::duration_cast<std::chrono::microseconds>(
      deadline - std::chrono::steady_clock::now());
  // A zero timeval means "no timeout" to hiredis; keep at least a millisecond.
  if (left < std::chrono::milliseconds(1)) left = std::chrono::milliseconds(1);
  return timeval{static_cast<time_t>(left.count() / 1'000'000),
                 static_cast<suseconds_t>(left.count() % 1'000'000)};
}

// hiredis reports a socket timeout as the strerror of EAGAIN or ETIMEDOUT.
std::string connError(const redisContext* c, milliseconds timeout) {
  const std::string text = c->errstr[0] != '\0' ? std::string(c->errstr) : "connection error";
  if (text == std::strerror(EAGAIN) || text == std::strerror(ETIMEDOUT)) {
    return "timed out after " + std::to_string(timeout.count()) + "ms";
  }
  return text;
}

// Sends one command (argv form, so nothing is formatted into the protocol by hand).
Result<Reply> command(redisContext* c, std::initializer_list<std::string> args, SteadyTime deadline,
                      milliseconds timeout) {
  if (redisSetTimeout(c, remaining(deadline)) != REDIS_OK) {
    return Status::Unavailable(connError(c, timeout));
  }
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  Reply reply(static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data())));
  if (!reply) return Status::Unavailable(connError(c, timeout));
  return reply;
}

std::string replyText(const redisReply& r) { return std::string(r.str, r.len); }

// "# Replication\r\nrole:master\r\nconnected_slaves:0\r\n..." -> {role: master, ...}
std::map<std::string, std::string> parseInfo(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    out[line.substr(0, colon)] = line.substr(colon + 1);
  }
  return out;
}

}  // namespace

CheckOutcome checkRedis(const RedisCheck& redis, milliseconds timeout) {
  CheckOutcome out;
  out.facts = ServiceFacts{};
  const SteadyTime deadline = std::chrono::steady_clock::now() + timeout;
  RedisConn conn(redisConnectWithTimeout(redis.host.c_str(), redis.port, remaining(deadline)));
  if (!conn) {
    out.detail = "cannot allocate a connection";
    return out;
  }
  if (conn->err != 0) {
    out.detail = "connect to " + redis.host + ":" + std::to_string(redis.port) + ": " +
                 connError(conn.get(), timeout);
    return out;
  }
  if (!redis.password.empty()) {
    // The reply ("WRONGPASS ...", "ERR ...") never repeats the password.
    auto auth = command(conn.get(), {"AUTH", redis.password}, deadline, timeout);
    if (!auth.ok()) {
      out.detail = "AUTH: " + auth.status().message();
      return out;
    }
    if ((*auth)->type == REDIS_REPLY_ERROR) {
      out.detail = "AUTH refused: " + replyText(**auth);
      return out;
    }
  }
  auto ping = command(conn.get(), {"PING"}, deadline, timeout);
  if (!ping.ok()) {
    out.detail = "PING: " + ping.status().message();
    return out;
  }
  const redisReply& pong = **ping;
  if (pong.type != REDIS_REPLY_STATUS || replyText(pong) != "PONG") {
    // LOADING (dataset still loading), NOAUTH, MASTERDOWN...: up but not serving.
    out.detail = "PING: " + (pong.type == REDIS_REPLY_ERROR || pong.type == REDIS_REPLY_STATUS
                                 ? replyText(pong)
                                 : std::string("unexpected reply"));
    return out;
  }
  out.success = true;
  out.detail = "PONG";

  auto info = command(conn.get(), {"INFO", "replication"}, deadline, timeout);
  if (!info.ok() || (*info)->type != REDIS_REPLY_STRING) {
    out.detail += "; INFO replication unavailable";
    if (info.ok() && (*info)->type == REDIS_REPLY_ERROR) out.detail += ": " + replyText(**info);
    return out;
  }
  const auto fields = parseInfo(replyText(**info));
  ServiceFacts& f = *out.facts;
  auto copy = [&](const char* key) {
    auto it = fields.find(key);
    if (it != fields.end()) f.attributes[key] = it->second;
  };
  const auto role = fields.find("role");
  if (role != fields.end() && role->second == "master") {
    f.role = "primary";
    copy("connected_slaves");
  } else if (role != fields.end() && role->second == "slave") {
    f.role = "replica";
    copy("master_link_status");
    copy("slave_repl_offset");
  }
  copy("master_repl_offset");
  if (!f.role.empty()) out.detail += ", " + f.role;
  return out;
}

}  // namespace noa::agent
