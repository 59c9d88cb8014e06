#pragma once

// The agent's small HTTP/1.1 server (its /health* and /metrics): GET and HEAD on fixed paths,
// one request per connection, Boost.Beast's parser over a DeadlineSocket. One thread accepts;
// each connection gets a short-lived thread, at most `max_connections` at once (more are
// answered 503 at once), and each is bounded by `io_timeout`, so a slow client cannot keep the
// orchestrator's probes out for longer than that.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"

namespace noa::agent {

struct HttpReply {
  int status = 200;
  std::string content_type = "text/plain";
  std::string body;
};

// Path (without the query string) -> handler. Handlers run on connection threads.
using HttpRoutes = std::map<std::string, std::function<HttpReply()>>;

struct HttpServerLimits {
  int max_connections = 4;
  std::chrono::milliseconds io_timeout{5000};  // whole request + response
  std::size_t max_header_bytes = 8192;
  std::size_t max_body_bytes = 4096;
};

class HttpServer {
 public:
  explicit HttpServer(HttpRoutes routes, HttpServerLimits limits = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds HOST:PORT (0 = any free port; SO_REUSEADDR, not SO_REUSEPORT, so a second agent
  // cannot share the port) and serves on a background thread.
  Status start(const std::string& host, int port);
  // Stops accepting and waits for the connections in flight (each bounded by io_timeout).
  void stop();
  int port() const { return port_; }

 private:
  void acceptLoop();
  void serve(int fd);
  HttpReply answer(const std::string& method, const std::string& target);

  HttpRoutes routes_;
  HttpServerLimits limits_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;
  int port_ = 0;
  std::thread acceptor_;
  std::mutex mu_;
  std::condition_variable idle_;
  int active_ = 0;
};

}  // namespace noa::agent
