#include "tests/testing/servers/redis_server.h"

#include <hiredis/hiredis.h>
#include <signal.h>

#include <filesystem>
#include <thread>

namespace noa::testing {

Result<std::unique_ptr<RedisServer>> RedisServer::start(RedisServerOptions options) {
  std::unique_ptr<RedisServer> redis(new RedisServer(std::move(options)));
  NOA_ASSIGN_OR_RETURN(redis->data_dir_, makeTempDir("noa-redis-"));
  redis->log_path_ = redis->data_dir_ + "/redis.log";
  const bool pick_port = redis->options_.port == 0;
  Status last;
  for (int attempt = 0; attempt < (pick_port ? 3 : 1); ++attempt) {
    if (pick_port) {
      NOA_ASSIGN_OR_RETURN(redis->port_, pickFreePort());
    } else {
      redis->port_ = redis->options_.port;
    }
    last = redis->start();
    if (last.ok()) return redis;
  }
  return last;
}

RedisServer::~RedisServer() {
  if (process_.running()) (void)stop(std::chrono::seconds(5));
  process_.kill();
  std::error_code ec;
  std::filesystem::remove_all(data_dir_, ec);
}

Status RedisServer::start() {
  if (process_.running()) return Status::FailedPrecondition("redis already running");
  SpawnOptions spawn;
  spawn.argv = {options_.binary, "--port", std::to_string(port_), "--bind", host_,
                "--dir", data_dir_, "--daemonize", "no", "--save", "", "--appendonly", "no",
                "--unixsocket", "", "--logfile", ""};
  // Later options override earlier ones, so extra args can turn persistence back on.
  for (const auto& a : options_.extra_args) spawn.argv.push_back(a);
  spawn.log_path = log_path_;
  NOA_RETURN_IF_ERROR(process_.spawn(spawn));
  Status ready = waitReady();
  if (!ready.ok()) process_.kill();
  return ready;
}

Status RedisServer::waitReady() {
  auto until = std::chrono::steady_clock::now() + options_.ready_timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (process_.exited()) {
      return Status::Unavailable("redis-server exited during startup: " + readTail(log_path_));
    }
    timeval tv{1, 0};
    redisContext* c = redisConnectWithTimeout(host_.c_str(), port_, tv);
    if (c != nullptr && c->err == 0) {
      auto* reply = static_cast<redisReply*>(redisCommand(c, "PING"));
      // Any reply (PONG, or NOAUTH with requirepass) means the server is serving.
      bool ok = reply != nullptr;
      if (reply != nullptr) freeReplyObject(reply);
      redisFree(c);
      if (ok) return Status::Ok();
    } else if (c != nullptr) {
      redisFree(c);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
  return Status::DeadlineExceeded("redis-server not ready: " + readTail(log_path_));
}

Status RedisServer::stop(std::chrono::milliseconds grace) {
  return process_.stop(SIGTERM, grace);
}

}  // namespace noa::testing
