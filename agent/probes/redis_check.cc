#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <string_view>
#include <vector>

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

// The INFO sections the facts come from, one command each: INFO with several sections needs
// redis 7.
constexpr const char* kInfoSections[] = {"replication", "memory"};

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

// Queues one command (argv form, so nothing is formatted into the protocol by hand); nothing is
// sent before the first readReply().
Status append(redisContext* c, std::initializer_list<std::string> args, milliseconds timeout) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  if (redisAppendCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()) !=
      REDIS_OK) {
    return Status::Unavailable(connError(c, timeout));
  }
  return Status::Ok();
}

// Sends what is queued (the first time) and reads the next reply in order.
Result<Reply> readReply(redisContext* c, SteadyTime deadline, milliseconds timeout) {
  if (redisSetTimeout(c, remaining(deadline)) != REDIS_OK) {
    return Status::Unavailable(connError(c, timeout));
  }
  void* raw = nullptr;
  if (redisGetReply(c, &raw) != REDIS_OK || raw == nullptr) {
    return Status::Unavailable(connError(c, timeout));
  }
  return Reply(static_cast<redisReply*>(raw));
}

std::string replyText(const redisReply& r) { return std::string(r.str, r.len); }

// "# Replication\r\nrole:master\r\nconnected_slaves:0\r\n..." -> {role: master, ...}
std::map<std::string, std::string> parseInfo(std::string_view text) {
  std::map<std::string, std::string> out;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    out[std::string(line.substr(0, colon))] = std::string(line.substr(colon + 1));
  }
  return out;
}

}  // namespace

ServiceFacts redisFactsFromInfo(std::string_view info) {
  const auto fields = parseInfo(info);
  ServiceFacts f;
  auto copy = [&](const char* key) {
    auto it = fields.find(key);
    if (it != fields.end()) f.attributes[key] = it->second;
  };
  const auto role = fields.find("role");
  if (role != fields.end() && role->second == "master") {
    f.role = "primary";
  } else if (role != fields.end() && role->second == "slave") {
    f.role = "replica";
    copy("master_host");
    copy("master_port");
    copy("master_link_status");
    copy("slave_repl_offset");
  }
  // On a replica, connected_slaves counts its own chained replicas.
  copy("connected_slaves");
  copy("master_repl_offset");
  copy("used_memory");
  return f;
}

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
  // Everything is pipelined: one round trip. A refused AUTH turns the later replies into
  // NOAUTH errors, which are then never looked at.
  const bool auth = !redis.password.empty();
  Status queued = auth ? append(conn.get(), {"AUTH", redis.password}, timeout) : Status::Ok();
  if (queued.ok()) queued = append(conn.get(), {"PING"}, timeout);
  for (const char* section : kInfoSections) {
    if (queued.ok()) queued = append(conn.get(), {"INFO", section}, timeout);
  }
  if (!queued.ok()) {
    out.detail = "cannot queue commands: " + queued.message();
    return out;
  }
  if (auth) {
    // The reply ("WRONGPASS ...", "ERR ...") never repeats the password.
    auto reply = readReply(conn.get(), deadline, timeout);
    if (!reply.ok()) {
      out.detail = "AUTH: " + reply.status().message();
      return out;
    }
    if ((*reply)->type == REDIS_REPLY_ERROR) {
      out.detail = "AUTH refused: " + replyText(**reply);
      return out;
    }
  }
  auto ping = readReply(conn.get(), deadline, timeout);
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

  std::string info;
  std::string missing;
  for (const char* section : kInfoSections) {
    auto reply = readReply(conn.get(), deadline, timeout);
    if (reply.ok() && (*reply)->type == REDIS_REPLY_STRING) {
      info += replyText(**reply);
      continue;
    }
    missing += std::string("; INFO ") + section + " unavailable";
    if (!reply.ok()) break;  // the connection is gone; later replies will not come either
    if ((*reply)->type == REDIS_REPLY_ERROR) missing += ": " + replyText(**reply);
  }
  *out.facts = redisFactsFromInfo(info);
  if (!out.facts->role.empty()) out.detail += ", " + out.facts->role;
  out.detail += missing;
  return out;
}

}  // namespace noa::agent
