#include "agent/replication/redis_session.h"

#include <sys/time.h>

#include <cerrno>
#include <cstring>
#include <sstream>

namespace noa::agent::replication {
namespace {

timeval toTimeval(std::chrono::milliseconds t) {
  if (t.count() <= 0) t = std::chrono::milliseconds(1);  // zero = no timeout to hiredis
  return timeval{static_cast<time_t>(t.count() / 1000),
                 static_cast<suseconds_t>((t.count() % 1000) * 1000)};
}

RedisValue convert(const redisReply* r) {
  RedisValue v;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      v.type = RedisValue::Type::kString;
      v.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      v.type = RedisValue::Type::kStatus;
      v.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      v.type = RedisValue::Type::kInteger;
      v.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      v.type = RedisValue::Type::kArray;
      for (size_t i = 0; i < r->elements; ++i) v.elements.push_back(convert(r->element[i]));
      break;
    default:
      break;
  }
  return v;
}

}  // namespace

Result<std::unique_ptr<RedisSession>> RedisSession::connect(const RedisEndpoint& endpoint,
                                                            bool* refused) {
  if (refused != nullptr) *refused = false;
  const timeval tv = toTimeval(endpoint.timeout);
  redisContext* ctx = redisConnectWithTimeout(endpoint.host.c_str(), endpoint.port, tv);
  if (ctx == nullptr) return Status::Internal("hiredis: out of memory");
  const std::string where = endpoint.host + ":" + std::to_string(endpoint.port);
  if (ctx->err != 0) {
    std::string msg = ctx->errstr;
    // hiredis keeps errno of the failed connect(); "Connection refused" = nothing listens.
    if (refused != nullptr && msg.find(std::strerror(ECONNREFUSED)) != std::string::npos) {
      *refused = true;
    }
    redisFree(ctx);
    return Status::Unavailable("connect to redis at " + where + ": " + msg);
  }
  std::unique_ptr<RedisSession> session(new RedisSession(ctx));
  session->setTimeout(endpoint.timeout);
  if (!endpoint.password.empty()) {
    auto auth = session->command({"AUTH", endpoint.password});
    if (!auth.ok()) {
      return Status::Unauthenticated("redis at " + where +
                                     " refused AUTH: " + auth.status().message());
    }
  }
  return session;
}

RedisSession::~RedisSession() { redisFree(ctx_); }

void RedisSession::setTimeout(std::chrono::milliseconds timeout) {
  redisSetTimeout(ctx_, toTimeval(timeout));
}

Result<RedisValue> RedisSession::command(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  void* raw = redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data());
  if (raw == nullptr) {
    std::string msg = ctx_->errstr[0] != '\0' ? ctx_->errstr : "connection error";
    if (msg == std::strerror(EAGAIN) || msg == std::strerror(ETIMEDOUT)) msg = "timed out";
    return Status::Unavailable("redis " + args.at(0) + ": " + msg);
  }
  auto* reply = static_cast<redisReply*>(raw);
  if (reply->type == REDIS_REPLY_ERROR) {
    std::string msg(reply->str, reply->len);
    freeReplyObject(reply);
    return Status::FailedPrecondition("redis " + args.at(0) + ": " + msg);
  }
  RedisValue value = convert(reply);
  freeReplyObject(reply);
  return value;
}

Result<std::map<std::string, std::string>> RedisSession::info(const std::string& section) {
  NOA_ASSIGN_OR_RETURN(RedisValue v, command({"INFO", section}));
  return parseRedisInfo(v.str);
}

std::map<std::string, std::string> parseRedisInfo(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    out[line.substr(0, colon)] = line.substr(colon + 1);
  }
  return out;
}

}  // namespace noa::agent::replication
