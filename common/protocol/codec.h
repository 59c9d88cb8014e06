#pragma once

// MessagePack encoding of protocol v1. Maps with string keys, keys written in the order the
// structs declare them (so encoding is deterministic and golden vectors are byte-exact).

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol/messages.h"
#include "common/status.h"

namespace noa::protocol {

// Defences against hostile or broken peers; the transport also caps frames at max_bytes.
struct DecodeLimits {
  size_t max_bytes = 64 * 1024;
  size_t max_map_entries = 1024;
  size_t max_array_entries = 1024;
  size_t max_string_bytes = 16 * 1024;
  size_t max_depth = 8;
};

std::string encode(const Envelope& envelope);

// Errors (the status code is the reject reason counted by the controller):
//   ResourceExhausted   larger than a limit
//   InvalidArgument     not MessagePack, truncated, trailing bytes, not a map, a field of the
//                       wrong type, a missing required field
//   FailedPrecondition  other major version ("incompatible protocol version 2; this side speaks 1")
//   Unimplemented       unknown message type
Result<Envelope> decode(std::string_view bytes, const DecodeLimits& limits = {});

// Storage that a caller decoding message after message hands back for reuse. A report's ~40
// metric names are decoded into the strings of `metrics` (a spent report's, moved here)
// instead of ~40 new ones: the controller's ingest thread spent a quarter of its time in
// malloc and free before. What is in `metrics` never shows in a decoded message.
struct DecodeScratch {
  std::vector<Metric> metrics;
};
Result<Envelope> decode(std::string_view bytes, const DecodeLimits& limits, DecodeScratch* scratch);

// Short reason label for counters and logs: "oversized", "malformed", "bad_version",
// "unknown_type", "invalid".
std::string_view rejectReason(const Status& decode_error);

}  // namespace noa::protocol
