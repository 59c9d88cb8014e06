// Fuzzes parsePromText, which the agent runs on whatever its service serves on /metrics.
// Checks the result's own contract too: a skipped line always comes with its first error, and
// every sample has a name and a family.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "agent/collectors/prom_text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const noa::agent::PromParseResult result = noa::agent::parsePromText(text);
  if ((result.skipped_lines > 0) != !result.first_error.empty()) {
    std::fprintf(stderr, "skipped_lines=%zu but first_error='%s'\n", result.skipped_lines,
                 result.first_error.c_str());
    std::abort();
  }
  for (const noa::agent::PromSample& sample : result.samples) {
    if (sample.name.empty() || sample.family.empty()) {
      std::fprintf(stderr, "a sample without a name or family\n");
      std::abort();
    }
    (void)noa::agent::promSeriesSuffix(sample);
    (void)noa::agent::promTypeName(sample.type);
  }
  return 0;
}
