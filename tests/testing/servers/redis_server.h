#pragma once

// A real redis-server for tests, on 127.0.0.1 with persistence off by default. Stopped by pid on
// destruction; the temp data dir is removed. stop() then start() restarts on the same port and
// data dir (with `--save` settings given in extra_args, the dataset survives). Not thread-safe.

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "tests/testing/servers/server_process.h"

namespace noa::testing {

struct RedisServerOptions {
  int port = 0;                         // 0 = pick a free port
  std::vector<std::string> extra_args;  // e.g. {"--requirepass", "s3cret"}
  std::string binary = "redis-server";
  std::chrono::milliseconds ready_timeout{15000};
};

class RedisServer {
 public:
  static Result<std::unique_ptr<RedisServer>> start(RedisServerOptions options);
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // SIGTERM (redis saves if configured and exits), SIGKILL to the group after `grace`.
  Status stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  // Starts again on the same port and data dir.
  Status start();
  void kill() { process_.kill(); }
  bool running() const { return process_.running(); }

  pid_t pid() const { return process_.pid(); }
  int port() const { return port_; }
  const std::string& host() const { return host_; }
  const std::string& dataDir() const { return data_dir_; }
  const std::string& logPath() const { return log_path_; }

 private:
  explicit RedisServer(RedisServerOptions options) : options_(std::move(options)) {}
  Status waitReady();

  RedisServerOptions options_;
  ServerProcess process_;
  std::string host_ = "127.0.0.1";
  std::string data_dir_;
  std::string log_path_;
  int port_ = 0;
};

}  // namespace noa::testing
