#pragma once

// Builds small, valid GGUF v3 files byte by byte (ggml docs/gguf.md) so the pre-flight check and
// the model.load tests run on real layouts without a multi-gigabyte model. Header-only, test use.

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace noa::testing {

class GgufBuilder {
 public:
  struct Tensor {
    std::string name;
    std::vector<uint64_t> dims;
    uint32_t type = 0;  // F32
  };

  GgufBuilder& version(uint32_t v) {
    version_ = v;
    return *this;
  }
  GgufBuilder& kvString(const std::string& key, const std::string& value) {
    kv_count_++;
    str(kv_, key);
    u32(kv_, 8);
    str(kv_, value);
    return *this;
  }
  GgufBuilder& kvU32(const std::string& key, uint32_t value) {
    kv_count_++;
    str(kv_, key);
    u32(kv_, 4);
    u32(kv_, value);
    return *this;
  }
  GgufBuilder& kvStringArray(const std::string& key, const std::vector<std::string>& values) {
    kv_count_++;
    str(kv_, key);
    u32(kv_, 9);
    u32(kv_, 8);
    u64(kv_, values.size());
    for (const auto& v : values) str(kv_, v);
    return *this;
  }
  GgufBuilder& kvF32Array(const std::string& key, const std::vector<float>& values) {
    kv_count_++;
    str(kv_, key);
    u32(kv_, 9);
    u32(kv_, 6);
    u64(kv_, values.size());
    for (float v : values) raw(kv_, &v, 4);
    return *this;
  }
  GgufBuilder& alignment(uint32_t a) {
    alignment_ = a;
    return kvU32("general.alignment", a);
  }
  GgufBuilder& tensor(Tensor t) {
    tensors_.push_back(std::move(t));
    return *this;
  }
  // Appended to the tensor data (changes the file's hash without changing its validity).
  GgufBuilder& fill(char c) {
    fill_ = c;
    return *this;
  }

  std::string build() const {
    std::string out;
    raw(out, "GGUF", 4);
    u32(out, version_);
    u64(out, tensors_.size());
    u64(out, kv_count_);
    out += kv_;
    uint64_t offset = 0;
    std::vector<uint64_t> sizes;
    for (const auto& t : tensors_) {
      str(out, t.name);
      u32(out, static_cast<uint32_t>(t.dims.size()));
      uint64_t n = 1;
      for (uint64_t d : t.dims) {
        u64(out, d);
        n *= d;
      }
      u32(out, t.type);
      u64(out, offset);
      uint64_t bytes = t.type == 1 ? n * 2 : n * 4;  // F16 or F32
      sizes.push_back(bytes);
      offset = (offset + bytes + alignment_ - 1) / alignment_ * alignment_;
    }
    out.resize((out.size() + alignment_ - 1) / alignment_ * alignment_, '\0');
    for (uint64_t s : sizes) {
      out.append(s, fill_);
      out.resize((out.size() + alignment_ - 1) / alignment_ * alignment_, '\0');
    }
    return out;
  }

  // A typical small model: architecture, a tokenizer array, two tensors.
  static GgufBuilder tiny(char fill = 'x') {
    GgufBuilder b;
    b.kvString("general.architecture", "llama")
        .kvStringArray("tokenizer.ggml.tokens", {"<s>", "</s>", "hello"})
        .kvF32Array("tokenizer.ggml.scores", {0.f, 0.f, -1.f})
        .tensor({"token_embd.weight", {8, 3}, 0})
        .tensor({"output.weight", {8, 3}, 1})
        .fill(fill);
    return b;
  }

 private:
  static void raw(std::string& out, const void* p, size_t n) {
    out.append(static_cast<const char*>(p), n);
  }
  static void u32(std::string& out, uint32_t v) { raw(out, &v, 4); }
  static void u64(std::string& out, uint64_t v) { raw(out, &v, 8); }
  static void str(std::string& out, const std::string& s) {
    u64(out, s.size());
    out += s;
  }

  uint32_t version_ = 3;
  uint64_t kv_count_ = 0;
  std::string kv_;
  std::vector<Tensor> tensors_;
  uint32_t alignment_ = 32;
  char fill_ = 'x';
};

}  // namespace noa::testing
