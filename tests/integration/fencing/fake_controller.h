#pragma once

// A stand-in controller for fencing tests: a ROUTER socket on its own thread that welcomes the
// agent, stores its latest report, acks reports (granting the leader lease or not, or staying
// silent), sends commands and keeps their results.

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "common/protocol/codec.h"
#include "common/transport/router_socket.h"

namespace noa::testing {

using namespace std::chrono_literals;

// What the stand-in controller does with reports.
enum class Mode { kGrant, kAckOnly, kSilent };

class FakeController {
 public:
  FakeController() {
    transport::RouterOptions options;
    options.bind_endpoint = "tcp://127.0.0.1:0";
    auto bound = transport::RouterSocket::bind(context_, options);
    if (bound.ok()) socket_ = std::move(bound).value();
    if (socket_) thread_ = std::thread([this] { run(); });
  }
  ~FakeController() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  bool ok() const { return socket_ != nullptr; }
  std::string endpoint() const { return socket_->endpoint(); }
  void setMode(Mode mode) { mode_ = mode; }
  void setLeaseMs(uint32_t ms) { lease_ms_ = ms; }

  std::optional<protocol::Report> lastReport() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_report_;
  }
  std::string attribute(const std::string& key) {
    auto r = lastReport();
    if (!r) return "<none>";
    auto it = r->attributes.find(key);
    return it == r->attributes.end() ? "<missing>" : it->second;
  }
  // Queues a command for the agent (sent on the ROUTER thread).
  void sendCommand(const std::string& id, const std::string& action) {
    std::lock_guard<std::mutex> lock(mu_);
    protocol::Command c;
    c.command_id = id;
    c.action = action;
    outgoing_.push_back(std::move(c));
  }
  std::optional<protocol::CommandResult> result(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = results_.find(id);
    if (it == results_.end()) return std::nullopt;
    return it->second;
  }
  std::vector<std::string> capabilities() {
    std::lock_guard<std::mutex> lock(mu_);
    return capabilities_;
  }

 private:
  void send(const std::string& peer, protocol::Body body) {
    protocol::Envelope env;
    env.id = "ctl-" + std::to_string(++ids_);
    env.from = "fake-controller";
    env.body = std::move(body);
    (void)socket_->send(peer, protocol::encode(env));
  }

  void run() {
    while (!stop_) {
      {
        std::vector<protocol::Command> out;
        std::string peer;
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (!peer_.empty()) out.swap(outgoing_);
          peer = peer_;
        }
        for (auto& c : out) send(peer, std::move(c));
      }
      auto received = socket_->receive(20ms);
      if (!received.ok() || !received->has_value()) continue;
      const auto& msg = **received;
      auto env = protocol::decode(msg.payload);
      if (!env.ok()) continue;
      const Mode mode = mode_.load();
      switch (env->type()) {
        case protocol::MessageType::kHello: {
          {
            std::lock_guard<std::mutex> lock(mu_);
            peer_ = msg.peer;
            capabilities_ = std::get<protocol::Hello>(env->body).capabilities;
          }
          if (mode == Mode::kSilent) break;
          protocol::Welcome w;
          w.agent_id = msg.peer;
          w.controller_id = "fake-controller";
          w.report_interval_ms = 200;
          send(msg.peer, w);
          break;
        }
        case protocol::MessageType::kReport: {
          const auto& report = std::get<protocol::Report>(env->body);
          {
            std::lock_guard<std::mutex> lock(mu_);
            last_report_ = report;
          }
          if (mode == Mode::kSilent) break;
          protocol::Ack ack;
          ack.ref = env->id;
          ack.seq = report.seq;
          if (mode == Mode::kGrant) {
            ack.lease_ms = lease_ms_;
            ack.leader_epoch = 1;
          }
          send(msg.peer, ack);
          break;
        }
        case protocol::MessageType::kResult: {
          const auto& result = std::get<protocol::CommandResult>(env->body);
          {
            std::lock_guard<std::mutex> lock(mu_);
            results_[result.command_id] = result;
          }
          protocol::Ack ack;
          ack.ref = env->id;
          ack.command_id = result.command_id;
          send(msg.peer, ack);
          break;
        }
        default:
          break;
      }
    }
  }

  zmq::context_t context_{1};
  std::unique_ptr<transport::RouterSocket> socket_;
  std::atomic<bool> stop_{false};
  std::atomic<Mode> mode_{Mode::kGrant};
  std::atomic<uint32_t> lease_ms_{1000};
  std::mutex mu_;
  std::string peer_;
  std::vector<std::string> capabilities_;
  std::optional<protocol::Report> last_report_;
  std::vector<protocol::Command> outgoing_;
  std::map<std::string, protocol::CommandResult> results_;
  uint64_t ids_ = 0;
  std::thread thread_;
};

}  // namespace noa::testing
