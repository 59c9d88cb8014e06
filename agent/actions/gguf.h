#pragma once

// Pre-flight check of a GGUF model file (ggml docs/gguf.md) before it is switched in: a truncated
// download, an HTML error page saved as a model or a big-endian file would otherwise only show up
// as a llama-server that never becomes healthy. The check reads the header, the key/value section
// and the tensor infos (not the tensor data) and proves that every tensor ends inside the file.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace noa::agent::actions {

struct GgufInfo {
  uint32_t version = 0;
  uint64_t tensor_count = 0;
  uint64_t kv_count = 0;
  std::string architecture;  // general.architecture (required by llama.cpp)
  uint64_t alignment = 32;   // general.alignment, or the default
  uint64_t data_offset = 0;  // where the tensor data section starts
  uint64_t data_end = 0;     // data_offset + end of the furthest tensor; <= file size
};

// Checks a whole GGUF file held in `file` (pure; `file.size()` is the file size). Errors are
// InvalidArgument (not a GGUF file, unsupported version, wrong endianness) or Corruption
// (counts, strings or tensors that do not fit, unknown tensor type), each with a message that
// says what was found.
Result<GgufInfo> checkGguf(std::string_view file);

// Maps `path` read-only and runs checkGguf on it; only the header pages are touched.
Result<GgufInfo> checkGgufFile(const std::string& path);

}  // namespace noa::agent::actions
