// A main for the fuzz targets without libFuzzer: runs LLVMFuzzerTestOneInput once per file
// named on the command line (a directory: each file in it, in name order). The normal gcc build
// uses it to replay the committed seed corpora as a quick regression test (tests.cmake); a
// crash, a sanitizer report or an abort from a target's own check fails the test.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

bool runFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "corpus: cannot read %s\n", path.c_str());
    return false;
  }
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::fprintf(stderr, "corpus: %s (%zu bytes)\n", path.c_str(), bytes.size());
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
    return 2;
  }
  size_t runs = 0;
  for (int i = 1; i < argc; ++i) {
    std::error_code error;
    std::vector<std::filesystem::path> files;
    if (std::filesystem::is_directory(argv[i], error)) {
      for (const auto& entry : std::filesystem::directory_iterator(argv[i], error)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());
    } else {
      files.emplace_back(argv[i]);
    }
    if (error) {
      std::fprintf(stderr, "corpus: %s: %s\n", argv[i], error.message().c_str());
      return 2;
    }
    for (const auto& file : files) {
      if (!runFile(file)) return 2;
      ++runs;
    }
  }
  if (runs == 0) {
    std::fprintf(stderr, "corpus: no inputs found\n");
    return 2;
  }
  std::printf("corpus: %zu inputs passed\n", runs);
  return 0;
}
