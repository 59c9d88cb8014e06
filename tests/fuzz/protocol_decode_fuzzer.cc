// Fuzzes protocol::decode, what the controller and the agent run on every frame a peer sends.
// Beyond "no crash, no UB, no leak": whatever decodes must encode and decode back to the same
// bytes (encoding is deterministic, schemas/protocol-v1.md), or the two sides disagree.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/protocol/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using noa::protocol::decode;
  using noa::protocol::encode;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto decoded = decode(bytes);
  if (!decoded.ok()) {
    (void)noa::protocol::rejectReason(decoded.status());
    return 0;
  }
  const std::string once = encode(*decoded);
  // Re-encoding may write wider numbers than the input did, so the round trip gets room.
  noa::protocol::DecodeLimits roomy;
  roomy.max_bytes = once.size() + 1;
  auto again = decode(once, roomy);
  if (!again.ok()) {
    std::fprintf(stderr, "re-decode failed: %s\n", again.status().message().c_str());
    std::abort();
  }
  if (encode(*again) != once) {
    std::fprintf(stderr, "encode(decode(encode(x))) != encode(x)\n");
    std::abort();
  }
  return 0;
}
