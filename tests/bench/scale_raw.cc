#include "tests/bench/scale_raw.h"

#include <chrono>
#include <vector>
#include <zmq.hpp>

#include "common/protocol/codec.h"
#include "common/transport/router_socket.h"
#include "controller/store/store.h"
#include "tests/bench/ingest_load.h"
#include "tests/testing/harness/net.h"

namespace noa::bench {

using namespace std::chrono_literals;

struct RawIngest::Impl {
  zmq::context_t context;
  std::unique_ptr<controller::Store> store;
  std::unique_ptr<transport::RouterSocket> router;
};

namespace {

int64_t wallNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string reply(const std::string& ref, protocol::Body body) {
  protocol::Envelope env;
  env.id = "raw-" + ref;
  env.ts_ms = wallNowMs();
  env.from = "raw";
  env.body = std::move(body);
  return protocol::encode(env);
}

}  // namespace

Result<std::unique_ptr<RawIngest>> RawIngest::start(const std::string& store_dir,
                                                    const std::string& curve_secret) {
  std::unique_ptr<RawIngest> raw(new RawIngest());
  raw->impl_ = std::make_unique<Impl>();
  NOA_ASSIGN_OR_RETURN(raw->impl_->store, controller::Store::open({store_dir}));
  transport::RouterOptions options;
  options.bind_endpoint = "tcp://127.0.0.1:" + std::to_string(testing::freePort());
  // No ZapHandler in this context: libzmq admits every client that knows the server key,
  // which is all the ceiling needs (ZAP runs once per handshake, not per message).
  options.curve_secret_key = curve_secret;
  NOA_ASSIGN_OR_RETURN(raw->impl_->router,
                       transport::RouterSocket::bind(raw->impl_->context, options));
  raw->endpoint_ = raw->impl_->router->endpoint();
  raw->thread_ = std::thread([r = raw.get()] { r->loop(); });
  return raw;
}

RawIngest::~RawIngest() { (void)stop(); }

Status RawIngest::stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  return error_;
}

void RawIngest::loop() {
  transport::RouterSocket& router = *impl_->router;
  std::vector<transport::IncomingMessage> drained;
  std::vector<std::pair<std::string, std::string>> replies;
  while (!stop_.load()) {
    drained.clear();
    replies.clear();
    auto first = router.receive(50ms);
    if (!first.ok()) {
      error_ = first.status();
      return;
    }
    if (!first->has_value()) continue;
    drained.push_back(std::move(**first));
    while (drained.size() < 100) {
      auto next = router.receive(0ms);
      if (!next.ok() || !next->has_value()) break;
      drained.push_back(std::move(**next));
    }
    controller::Store::Batch batch;
    const int64_t now_ms = wallNowMs();
    for (const auto& message : drained) {
      auto env = protocol::decode(message.payload);
      if (!env.ok()) continue;
      if (const auto* hello = std::get_if<protocol::Hello>(&env->body)) {
        replies.emplace_back(
            message.peer, reply(env->id, protocol::Welcome{hello->agent_id, "raw", 1000, now_ms}));
        continue;
      }
      const auto* report = std::get_if<protocol::Report>(&env->body);
      if (report == nullptr) continue;
      controller::AgentRecord record;
      record.hello.agent_id = message.peer;
      record.last_seen_ms = now_ms;
      record.last_seq = report->seq;
      record.has_report = true;
      record.last_report = *report;
      record.last_report_ts_ms = env->ts_ms;
      batch.putAgent(record);
      batch.appendHistory(message.peer, now_ms, report->seq, message.payload);
      replies.emplace_back(message.peer,
                           reply(env->id, protocol::Ack{env->id, report->seq, "", ""}));
    }
    if (Status committed = impl_->store->commit(batch); !committed.ok()) {
      error_ = committed;
      return;
    }
    ++commits_;
    for (const auto& [peer, bytes] : replies) (void)router.send(peer, bytes);
    cpu_ns_.store(threadCpuNs());
  }
}

}  // namespace noa::bench
