#pragma once

// What an agent puts on the wire, for the ingest tests: protocol envelopes with ids that never
// repeat and the test clock's wall time.

#include <cstdint>
#include <string>

#include "common/clock.h"
#include "common/protocol/codec.h"

namespace noa::testing {

class AgentFrames {
 public:
  explicit AgentFrames(const Clock& clock) : clock_(clock) {}

  std::string encode(const std::string& from, protocol::Body body, uint32_t version = 1) {
    protocol::Envelope env;
    env.v = version;
    env.id = from + "-" + std::to_string(++ids_);
    env.ts_ms = toUnixMillis(clock_.wallNow());
    env.from = from;
    env.body = std::move(body);
    return protocol::encode(env);
  }

 private:
  const Clock& clock_;
  uint64_t ids_ = 0;
};

}  // namespace noa::testing
