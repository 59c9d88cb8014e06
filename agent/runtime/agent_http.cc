#include "agent/runtime/agent_http.h"

#include <httplib.h>
#include <sys/socket.h>
#include <prometheus/text_serializer.h>

namespace noa::agent {
namespace {

void answer(httplib::Response& res, bool ok, const char* what) {
  res.status = ok ? 200 : 503;
  res.set_content(std::string("{\"status\":\"") + (ok ? "ok" : "unavailable") + "\",\"check\":\"" +
                      what + "\"}",
                  "application/json");
}

}  // namespace

AgentHttp::AgentHttp(prometheus::Registry& registry, AgentHealthFlags flags)
    : registry_(registry), flags_(std::move(flags)), server_(std::make_unique<httplib::Server>()) {
  // Health checks and scrapes are rare and quick; cpp-httplib's default pool is 8+ threads.
  server_->new_task_queue = [] { return new httplib::ThreadPool(2); };
}

AgentHttp::~AgentHttp() { stop(); }

Status AgentHttp::start(const std::string& host, int port) {
  server_->set_read_timeout(std::chrono::seconds(5));
  server_->set_write_timeout(std::chrono::seconds(5));
  server_->set_payload_max_length(4096);
  server_->set_tcp_nodelay(true);  // see ApiServer: no delayed-ACK wait between headers and body
  server_->Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    answer(res, flags_.live(), "live");
  });
  server_->Get("/health/ready", [this](const httplib::Request&, httplib::Response& res) {
    answer(res, flags_.ready(), "ready");
  });
  server_->Get("/health/startup", [this](const httplib::Request&, httplib::Response& res) {
    answer(res, flags_.started(), "started");
  });
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    if (flags_.before_scrape) flags_.before_scrape();
    res.set_content(prometheus::TextSerializer().Serialize(registry_.Collect()),
                    "text/plain; version=0.0.4");
  });
  // cpp-httplib sets SO_REUSEPORT by default, which lets a second agent bind the same port and
  // take half the scrapes; plain SO_REUSEADDR only allows a quick restart.
  server_->set_socket_options([](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  if (port == 0) {
    port_ = server_->bind_to_any_port(host.c_str());
    if (port_ < 0) return Status::Unavailable("cannot listen on " + host + ":0");
  } else {
    if (!server_->bind_to_port(host.c_str(), port)) {
      return Status::Unavailable("cannot listen on " + host + ":" + std::to_string(port));
    }
    port_ = port;
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return Status::Ok();
}

void AgentHttp::stop() {
  if (thread_.joinable()) {
    // httplib's stop() does nothing until the listen loop has begun, and the loop would then run
    // forever; a stop right after start has to wait for it.
    for (int i = 0; i < 500 && !server_->is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    server_->stop();
    thread_.join();
  }
}

}  // namespace noa::agent
