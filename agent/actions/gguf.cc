#include "agent/actions/gguf.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

namespace noa::agent::actions {
namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr uint64_t kMaxKeyLength = 65535;
constexpr uint64_t kMaxTensorName = 64;
constexpr uint32_t kMaxDims = 4;
// The smallest encodings, used to bound the counts by what the file could possibly hold.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;              // key length, type, one-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;  // name length, n_dims, type, offset

enum ValueType : uint32_t {
  kU8 = 0,
  kI8,
  kU16,
  kI16,
  kU32,
  kI32,
  kF32,
  kBool,
  kString,
  kArray,
  kU64,
  kI64,
  kF64,
};

// Fixed-size element width of a scalar value type; nullopt for string/array/unknown.
std::optional<uint64_t> scalarSize(uint32_t type) {
  switch (type) {
    case kU8:
    case kI8:
    case kBool:
      return 1;
    case kU16:
    case kI16:
      return 2;
    case kU32:
    case kI32:
    case kF32:
      return 4;
    case kU64:
    case kI64:
    case kF64:
      return 8;
    default:
      return std::nullopt;
  }
}

struct TypeSize {
  uint64_t block;  // elements per block
  uint64_t bytes;  // bytes per block
};

// ggml tensor types llama.cpp ships (ggml.h enum ggml_type, ggml-common.h block layouts).
std::optional<TypeSize> ggmlTypeSize(uint32_t type) {
  switch (type) {
    case 0:
      return TypeSize{1, 4};  // F32
    case 1:
      return TypeSize{1, 2};  // F16
    case 2:
      return TypeSize{32, 18};  // Q4_0
    case 3:
      return TypeSize{32, 20};  // Q4_1
    case 6:
      return TypeSize{32, 22};  // Q5_0
    case 7:
      return TypeSize{32, 24};  // Q5_1
    case 8:
      return TypeSize{32, 34};  // Q8_0
    case 9:
      return TypeSize{32, 36};  // Q8_1
    case 10:
      return TypeSize{256, 84};  // Q2_K
    case 11:
      return TypeSize{256, 110};  // Q3_K
    case 12:
      return TypeSize{256, 144};  // Q4_K
    case 13:
      return TypeSize{256, 176};  // Q5_K
    case 14:
      return TypeSize{256, 210};  // Q6_K
    case 15:
      return TypeSize{256, 292};  // Q8_K
    case 16:
      return TypeSize{256, 66};  // IQ2_XXS
    case 17:
      return TypeSize{256, 74};  // IQ2_XS
    case 18:
      return TypeSize{256, 98};  // IQ3_XXS
    case 19:
      return TypeSize{256, 50};  // IQ1_S
    case 20:
      return TypeSize{32, 18};  // IQ4_NL
    case 21:
      return TypeSize{256, 110};  // IQ3_S
    case 22:
      return TypeSize{256, 82};  // IQ2_S
    case 23:
      return TypeSize{256, 136};  // IQ4_XS
    case 24:
      return TypeSize{1, 1};  // I8
    case 25:
      return TypeSize{1, 2};  // I16
    case 26:
      return TypeSize{1, 4};  // I32
    case 27:
      return TypeSize{1, 8};  // I64
    case 28:
      return TypeSize{1, 8};  // F64
    case 29:
      return TypeSize{256, 56};  // IQ1_M
    case 30:
      return TypeSize{1, 2};  // BF16
    case 34:
      return TypeSize{256, 54};  // TQ1_0
    case 35:
      return TypeSize{256, 66};  // TQ2_0
    case 39:
      return TypeSize{32, 17};  // MXFP4
    default:
      return std::nullopt;
  }
}

// Bounds-checked little-endian reader over the file bytes.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return data_.size() - pos_; }

  template <class T>
  Result<T> read(const char* what) {
    if (remaining() < sizeof(T)) return truncated(what);
    T value;
    std::memcpy(&value, data_.data() + pos_, sizeof(T));  // host is little-endian (x86/arm64)
    pos_ += sizeof(T);
    return value;
  }

  Result<std::string_view> readString(const char* what, uint64_t max_length) {
    NOA_ASSIGN_OR_RETURN(uint64_t length, read<uint64_t>(what));
    if (length > max_length) {
      return Status::Corruption(std::string(what) + " at offset " + std::to_string(pos_ - 8) +
                                " is " + std::to_string(length) + " bytes long (limit " +
                                std::to_string(max_length) + ")");
    }
    if (length > remaining()) return truncated(what);
    std::string_view s = data_.substr(pos_, length);
    pos_ += length;
    return s;
  }

  Status skip(uint64_t bytes, const char* what) {
    if (bytes > remaining()) return truncated(what);
    pos_ += bytes;
    return Status::Ok();
  }

 private:
  Status truncated(const char* what) const {
    return Status::Corruption(std::string("file ends inside ") + what + " at offset " +
                              std::to_string(pos_) + " (file size " + std::to_string(data_.size()) +
                              "): truncated download?");
  }

  std::string_view data_;
  uint64_t pos_ = 0;
};

Status skipValue(Reader& r, uint32_t type, bool in_array) {
  if (auto size = scalarSize(type)) return r.skip(*size, "a metadata value");
  if (type == kString) {
    return r.readString("a metadata string", UINT64_MAX).status();
  }
  if (type == kArray && !in_array) {
    NOA_ASSIGN_OR_RETURN(uint32_t elem_type, r.read<uint32_t>("an array type"));
    NOA_ASSIGN_OR_RETURN(uint64_t n, r.read<uint64_t>("an array length"));
    if (auto size = scalarSize(elem_type)) {
      if (n > r.remaining() / *size) {
        return Status::Corruption("array of " + std::to_string(n) +
                                  " elements does not fit in the " + std::to_string(r.remaining()) +
                                  " bytes left");
      }
      return r.skip(n * *size, "an array");
    }
    if (elem_type != kString) {
      return Status::Corruption("array element type " + std::to_string(elem_type) +
                                " is not supported");
    }
    if (n > r.remaining() / 8) {
      return Status::Corruption("array of " + std::to_string(n) + " strings does not fit in the " +
                                std::to_string(r.remaining()) + " bytes left");
    }
    for (uint64_t i = 0; i < n; ++i) NOA_RETURN_IF_ERROR(skipValue(r, kString, true));
    return Status::Ok();
  }
  return Status::Corruption("unknown metadata value type " + std::to_string(type) + " at offset " +
                            std::to_string(r.pos() - 4));
}

uint32_t byteSwap(uint32_t v) { return __builtin_bswap32(v); }

Status checkVersion(uint32_t version) {
  if (version == 2 || version == 3) return Status::Ok();
  uint32_t swapped = byteSwap(version);
  if (swapped >= 1 && swapped <= 3) {
    return Status::InvalidArgument("GGUF version field reads " + std::to_string(version) +
                                   ", which is version " + std::to_string(swapped) +
                                   " byte-swapped: the file has the wrong endianness "
                                   "(big-endian GGUF) for this host");
  }
  if (version == 1) {
    return Status::InvalidArgument(
        "GGUF version 1 is no longer supported by llama.cpp; "
        "convert the model again");
  }
  return Status::InvalidArgument("unsupported GGUF version " + std::to_string(version) +
                                 " (llama.cpp reads 2 and 3)");
}

}  // namespace

Result<GgufInfo> checkGguf(std::string_view file) {
  const uint64_t size = file.size();
  if (size < 24) {
    return Status::InvalidArgument("file is " + std::to_string(size) +
                                   " bytes: too small for a GGUF header (24 bytes)");
  }
  Reader r(file);
  GgufInfo info;
  NOA_ASSIGN_OR_RETURN(uint32_t magic, r.read<uint32_t>("the magic"));
  if (magic != kMagic) {
    std::string shown;
    for (char c : file.substr(0, 4)) {
      shown += (c >= 0x20 && c < 0x7f) ? std::string(1, c) : "?";
    }
    return Status::InvalidArgument("not a GGUF file: starts with \"" + shown +
                                   "\" instead of \"GGUF\"");
  }
  NOA_ASSIGN_OR_RETURN(info.version, r.read<uint32_t>("the version"));
  NOA_RETURN_IF_ERROR(checkVersion(info.version));
  NOA_ASSIGN_OR_RETURN(info.tensor_count, r.read<uint64_t>("the tensor count"));
  NOA_ASSIGN_OR_RETURN(info.kv_count, r.read<uint64_t>("the metadata count"));
  if (info.kv_count > r.remaining() / kMinKvBytes) {
    return Status::Corruption("metadata count " + std::to_string(info.kv_count) +
                              " is implausible for a file of " + std::to_string(size) + " bytes");
  }
  if (info.tensor_count > r.remaining() / kMinTensorInfoBytes) {
    return Status::Corruption("tensor count " + std::to_string(info.tensor_count) +
                              " is implausible for a file of " + std::to_string(size) + " bytes");
  }

  for (uint64_t i = 0; i < info.kv_count; ++i) {
    NOA_ASSIGN_OR_RETURN(std::string_view key, r.readString("a metadata key", kMaxKeyLength));
    NOA_ASSIGN_OR_RETURN(uint32_t type, r.read<uint32_t>("a metadata type"));
    if (key == "general.architecture" && type == kString) {
      NOA_ASSIGN_OR_RETURN(std::string_view arch, r.readString("general.architecture", 1024));
      info.architecture = std::string(arch);
    } else if (key == "general.alignment") {
      if (type != kU32) {
        return Status::Corruption("general.alignment has type " + std::to_string(type) +
                                  ", expected uint32");
      }
      NOA_ASSIGN_OR_RETURN(uint32_t alignment, r.read<uint32_t>("general.alignment"));
      if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
        return Status::Corruption("general.alignment " + std::to_string(alignment) +
                                  " is not a power of two");
      }
      info.alignment = alignment;
    } else {
      NOA_RETURN_IF_ERROR(skipValue(r, type, false));
    }
  }
  if (info.architecture.empty()) {
    return Status::Corruption("general.architecture (string) is missing");
  }

  uint64_t furthest_end = 0;
  for (uint64_t i = 0; i < info.tensor_count; ++i) {
    NOA_ASSIGN_OR_RETURN(std::string_view name, r.readString("a tensor name", kMaxTensorName));
    NOA_ASSIGN_OR_RETURN(uint32_t n_dims, r.read<uint32_t>("a tensor's dimension count"));
    if (n_dims == 0 || n_dims > kMaxDims) {
      return Status::Corruption("tensor '" + std::string(name) + "' has " + std::to_string(n_dims) +
                                " dimensions (1 to 4 allowed)");
    }
    uint64_t elements = 1;
    uint64_t first_dim = 0;
    for (uint32_t d = 0; d < n_dims; ++d) {
      NOA_ASSIGN_OR_RETURN(uint64_t dim, r.read<uint64_t>("a tensor dimension"));
      if (d == 0) first_dim = dim;
      if (dim != 0 && elements > UINT64_MAX / dim) {
        return Status::Corruption("tensor '" + std::string(name) + "' dimensions overflow");
      }
      elements *= dim;
    }
    NOA_ASSIGN_OR_RETURN(uint32_t type, r.read<uint32_t>("a tensor type"));
    NOA_ASSIGN_OR_RETURN(uint64_t offset, r.read<uint64_t>("a tensor offset"));
    auto ts = ggmlTypeSize(type);
    if (!ts) {
      return Status::Corruption("tensor '" + std::string(name) + "' has ggml type " +
                                std::to_string(type) +
                                ", which this check does not know: cannot prove it fits");
    }
    if (first_dim % ts->block != 0) {
      return Status::Corruption(
          "tensor '" + std::string(name) + "' first dimension " + std::to_string(first_dim) +
          " is not a multiple of its block size " + std::to_string(ts->block));
    }
    if (offset % info.alignment != 0) {
      return Status::Corruption("tensor '" + std::string(name) + "' offset " +
                                std::to_string(offset) + " is not a multiple of the alignment " +
                                std::to_string(info.alignment));
    }
    const uint64_t blocks = elements / ts->block;
    if (blocks > size / ts->bytes || offset > size) {
      return Status::Corruption("tensor '" + std::string(name) + "' (" + std::to_string(elements) +
                                " elements at offset " + std::to_string(offset) +
                                ") cannot fit in a file of " + std::to_string(size) + " bytes");
    }
    furthest_end = std::max(furthest_end, offset + blocks * ts->bytes);
  }

  const uint64_t infos_end = r.pos();
  info.data_offset = (infos_end + info.alignment - 1) / info.alignment * info.alignment;
  info.data_end = info.data_offset + furthest_end;
  if (info.tensor_count > 0 && info.data_end > size) {
    return Status::Corruption("tensor data ends at byte " + std::to_string(info.data_end) +
                              " but the file has only " + std::to_string(size) +
                              " bytes: truncated download?");
  }
  return info;
}

Result<GgufInfo> checkGgufFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IoError("open " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return Status::IoError("stat " + path + ": " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument(path + " is not a regular file");
  }
  const auto size = static_cast<size_t>(st.st_size);
  if (size == 0) {
    ::close(fd);
    return checkGguf(std::string_view()).status().withContext(path);
  }
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  int map_errno = errno;
  ::close(fd);
  if (map == MAP_FAILED) return Status::IoError("mmap " + path + ": " + std::strerror(map_errno));
  auto result = checkGguf(std::string_view(static_cast<const char*>(map), size));
  ::munmap(map, size);
  if (!result.ok()) return result.status().withContext(path);
  return result;
}

}  // namespace noa::agent::actions
