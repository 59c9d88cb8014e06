#include "agent/runtime/fence_state.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace noa::agent {
namespace {

std::string errnoText(const std::string& what, const std::string& path) {
  return what + " '" + path + "': " + std::strerror(errno);
}

Status fsyncPath(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return Status::IoError(errnoText("cannot open", path));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Status::IoError(errnoText("cannot fsync", path));
  return Status::Ok();
}

Status writeAll(int fd, const std::string& bytes, const std::string& path) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IoError(errnoText("cannot write", path));
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

FenceStateFile::FenceStateFile(std::string state_dir)
    : dir_(std::move(state_dir)), path_(dir_ + "/" + kFenceStateFile) {}

Result<std::optional<FenceRecord>> FenceStateFile::load() const {
  std::error_code ec;
  if (!std::filesystem::exists(path_, ec) && !ec) return std::optional<FenceRecord>();
  std::ifstream in(path_);
  if (!in) return Status::IoError(errnoText("cannot read", path_));
  std::stringstream text;
  text << in.rdbuf();
  const auto json = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("reason") || !json["reason"].is_string()) {
    return Status::Corruption("'" + path_ + "' is not a fence record");
  }
  const auto reason = parseFenceReason(json["reason"].get<std::string>());
  if (!reason) return Status::Corruption("'" + path_ + "' names an unknown fence reason");
  FenceRecord record;
  record.reason = *reason;
  if (json.contains("epoch") && json["epoch"].is_number_unsigned()) {
    record.epoch = json["epoch"].get<uint64_t>();
  }
  if (json.contains("since_ms") && json["since_ms"].is_number_integer()) {
    record.since_ms = json["since_ms"].get<int64_t>();
  }
  if (record.reason == FenceReason::kNone) return std::optional<FenceRecord>();
  return std::optional<FenceRecord>(record);
}

Status FenceStateFile::save(const FenceRecord& record) const {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return Status::IoError("cannot create '" + dir_ + "': " + ec.message());
  if (record.reason == FenceReason::kNone) {
    if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
      return Status::IoError(errnoText("cannot remove", path_));
    }
    return fsyncPath(dir_, O_RDONLY | O_DIRECTORY);
  }
  const nlohmann::json json = {{"reason", std::string(fenceReasonName(record.reason))},
                               {"epoch", record.epoch},
                               {"since_ms", record.since_ms},
                               {"since", formatRfc3339(fromUnixMillis(record.since_ms))}};
  const std::string tmp = path_ + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IoError(errnoText("cannot create", tmp));
  Status written = writeAll(fd, json.dump() + "\n", tmp);
  if (written.ok() && ::fsync(fd) != 0) written = Status::IoError(errnoText("cannot fsync", tmp));
  ::close(fd);
  if (!written.ok()) {
    ::unlink(tmp.c_str());
    return written;
  }
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    const Status failed = Status::IoError(errnoText("cannot rename into", path_));
    ::unlink(tmp.c_str());
    return failed;
  }
  return fsyncPath(dir_, O_RDONLY | O_DIRECTORY);
}

}  // namespace noa::agent
