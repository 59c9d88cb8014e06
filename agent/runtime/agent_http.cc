#include "agent/runtime/agent_http.h"

#include <prometheus/text_serializer.h>

namespace noa::agent {
namespace {

HttpReply answer(bool ok, const char* what) {
  return {ok ? 200 : 503, "application/json",
          std::string("{\"status\":\"") + (ok ? "ok" : "unavailable") + "\",\"check\":\"" + what +
              "\"}"};
}

}  // namespace

AgentHttp::AgentHttp(prometheus::Registry& registry, AgentHealthFlags flags)
    : registry_(registry), flags_(std::move(flags)) {}

AgentHttp::~AgentHttp() { stop(); }

Status AgentHttp::start(const std::string& host, int port) {
  HttpRoutes routes;
  routes["/health"] = [this] { return answer(flags_.live(), "live"); };
  routes["/health/ready"] = [this] { return answer(flags_.ready(), "ready"); };
  routes["/health/startup"] = [this] { return answer(flags_.started(), "started"); };
  routes["/metrics"] = [this] {
    if (flags_.before_scrape) flags_.before_scrape();
    return HttpReply{200, "text/plain; version=0.0.4",
                     prometheus::TextSerializer().Serialize(registry_.Collect())};
  };
  server_ = std::make_unique<HttpServer>(std::move(routes));
  Status started = server_->start(host, port);
  if (!started.ok()) server_.reset();
  return started;
}

void AgentHttp::stop() {
  if (server_) server_->stop();
}

}  // namespace noa::agent
