#pragma once

// Plays agent pg-1 on its own thread for noactl tests: whenever the book has something new (its
// wakeup), takes the deliveries and hands each command id to `answer`, as the agent's executor
// would answer what the ingest thread sends.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "controller/commands/command_book.h"
#include "tests/unit/controller/api/fake_agent_side.h"

namespace noa::testing {

class FakeAgent {
 public:
  using Answer = std::function<void(controller::commands::CommandBook&, const std::string& id)>;

  FakeAgent(controller::commands::CommandBook& book, Answer answer)
      : book_(book), answer_(std::move(answer)) {
    book_.setWakeup([this] {
      std::lock_guard lock(mu_);
      ++wakes_;
      cv_.notify_all();
    });
    thread_ = std::thread([this] { loop(); });
  }
  ~FakeAgent() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
      cv_.notify_all();
    }
    thread_.join();
    book_.setWakeup(nullptr);
  }
  FakeAgent(const FakeAgent&) = delete;
  FakeAgent& operator=(const FakeAgent&) = delete;

 private:
  void loop() {
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stop_ || wakes_ != seen; });
        if (stop_) return;
        seen = wakes_;
      }
      for (const std::string& id : deliverTo(book_, "pg-1")) answer_(book_, id);
    }
  }

  controller::commands::CommandBook& book_;
  Answer answer_;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t wakes_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace noa::testing
