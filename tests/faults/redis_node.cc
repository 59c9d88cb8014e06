#include "tests/faults/redis_node.h"

namespace noa::testing::faults {

std::string redisCall(const std::string& host, int port, const std::string& command, bool* ok,
                      int timeout_ms) {
  if (ok) *ok = false;
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  redisContext* c = redisConnectWithTimeout(host.c_str(), port, tv);
  if (c == nullptr || c->err) {
    if (c) redisFree(c);
    return "";
  }
  redisSetTimeout(c, tv);
  auto* reply = static_cast<redisReply*>(redisCommand(c, command.c_str()));
  std::string out;
  if (reply != nullptr) {
    if (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS) {
      out.assign(reply->str, reply->len);
      if (ok) *ok = true;
    } else if (reply->type == REDIS_REPLY_INTEGER) {
      out = std::to_string(reply->integer);
      if (ok) *ok = true;
    } else if (reply->type == REDIS_REPLY_ERROR) {
      out.assign(reply->str, reply->len);
    }
    freeReplyObject(reply);
  }
  redisFree(c);
  return out;
}

std::string redisInfoField(const std::string& host, int port, const std::string& field) {
  const std::string info = redisCall(host, port, "INFO replication");
  const size_t at = info.find(field + ":");
  if (at == std::string::npos) return "";
  const size_t end = info.find_first_of("\r\n", at);
  return info.substr(at + field.size() + 1, end - at - field.size() - 1);
}

RedisWriter::RedisWriter(std::string host, int port, std::function<Status()> enter)
    : host_(std::move(host)), port_(port) {
  thread_ = std::thread([this, enter = std::move(enter)] { run(enter); });
}

void RedisWriter::stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void RedisWriter::run(std::function<Status()> enter) {
  if (enter) {
    if (Status s = enter(); !s.ok()) {
      failures_.fetch_add(1);
      return;
    }
  }
  timeval tv{0, 200000};
  redisContext* c = nullptr;
  int64_t n = 0;
  while (!stop_.load()) {
    if (c == nullptr) {
      c = redisConnectWithTimeout(host_.c_str(), port_, tv);
      if (c == nullptr || c->err) {
        if (c) redisFree(c);
        c = nullptr;
        failures_.fetch_add(1);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      redisSetTimeout(c, tv);
    }
    ++n;
    auto* reply = static_cast<redisReply*>(redisCommand(c, "SET w %lld", static_cast<long long>(n)));
    // The ack's wall time is taken after the reply arrived: the server accepted it before.
    const int64_t at = wallMs();
    const bool ok = reply != nullptr && reply->type == REDIS_REPLY_STATUS;
    if (reply) freeReplyObject(reply);
    if (ok) {
      last_ok_ms_.store(at);
      acked_.fetch_add(1);
    } else {
      failures_.fetch_add(1);
      redisFree(c);  // a timed-out context is unusable
      c = nullptr;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (c) redisFree(c);
}

}  // namespace noa::testing::faults
