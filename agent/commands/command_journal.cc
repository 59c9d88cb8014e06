#include "agent/commands/command_journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/log.h"
#include "common/protocol/command_params.h"

namespace noa::agent::commands {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kSuffix = ".json";

std::string errnoText(int err) { return std::strerror(err); }

Status fsyncPath(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return Status::IoError("open " + path + ": " + errnoText(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return Status::IoError("fsync " + path + ": " + errnoText(err));
  return Status::Ok();
}

// tmp + fsync + rename + fsync(dir): the file is either the old or the new content.
Status writeFileAtomic(const std::string& dir, const std::string& name, const std::string& data) {
  const std::string path = dir + "/" + name;
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IoError("create " + tmp + ": " + errnoText(errno));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Status(err == ENOSPC ? StatusCode::kResourceExhausted : StatusCode::kIoError,
                    "write " + tmp + ": " + errnoText(err));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return Status::IoError("fsync " + tmp + ": " + errnoText(err));
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return Status::IoError("rename " + tmp + ": " + errnoText(err));
  }
  return fsyncPath(dir, O_RDONLY | O_DIRECTORY);
}

Status removeDurably(const std::string& dir, const std::string& name) {
  const std::string path = dir + "/" + name;
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Status::IoError("unlink " + path + ": " + errnoText(errno));
  }
  return fsyncPath(dir, O_RDONLY | O_DIRECTORY);
}

json resultToJson(const protocol::CommandResult& r) {
  json output = json::object();
  for (const auto& [k, v] : r.output) output[k] = protocol::valueToJson(v);
  return {{"command_id", r.command_id},
          {"status", r.status},
          {"code", r.code},
          {"error", r.error},
          {"error_code", r.error_code},
          {"output", output},
          {"output_json", r.output_json},
          {"duration_ms", r.duration_ms}};
}

Result<protocol::CommandResult> resultFromJson(const json& j) {
  if (!j.is_object()) return Status::InvalidArgument("result: expected an object");
  protocol::CommandResult r;
  try {
    r.command_id = j.at("command_id").get<std::string>();
    r.status = j.at("status").get<std::string>();
    r.code = j.value("code", 0);
    r.error = j.value("error", "");
    r.error_code = j.value("error_code", "");
    r.output_json = j.value("output_json", "");
    r.duration_ms = j.value("duration_ms", uint64_t{0});
    const json output = j.value("output", json::object());
    for (const auto& [k, v] : output.items()) {
      if (v.is_null()) {
        r.output[k] = std::monostate{};
      } else if (v.is_boolean()) {
        r.output[k] = v.get<bool>();
      } else if (v.is_number_integer()) {
        r.output[k] = v.get<int64_t>();
      } else if (v.is_number()) {
        r.output[k] = v.get<double>();
      } else if (v.is_string()) {
        r.output[k] = v.get<std::string>();
      } else {
        return Status::InvalidArgument("result.output." + k + ": expected a scalar");
      }
    }
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("result: ") + e.what());
  }
  return r;
}

json entryToJson(const JournalEntry& e) {
  json j = {{"command_id", e.command_id},
            {"action", e.action},
            {"received_ms", e.received_ms},
            {"done_ms", e.done_ms}};
  if (!e.artifact_path.empty()) j["artifact_path"] = e.artifact_path;
  if (e.result) j["result"] = resultToJson(*e.result);
  return j;
}

Result<JournalEntry> entryFromJson(const json& j) {
  if (!j.is_object()) return Status::InvalidArgument("journal entry: expected an object");
  JournalEntry e;
  try {
    e.command_id = j.at("command_id").get<std::string>();
    e.action = j.value("action", "");
    e.received_ms = j.value("received_ms", int64_t{0});
    e.done_ms = j.value("done_ms", int64_t{0});
    e.artifact_path = j.value("artifact_path", "");
  } catch (const json::exception& ex) {
    return Status::InvalidArgument(std::string("journal entry: ") + ex.what());
  }
  if (auto it = j.find("result"); it != j.end()) {
    NOA_ASSIGN_OR_RETURN(e.result, resultFromJson(*it));
  }
  return e;
}

Result<json> readJson(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::IoError("open " + path + ": " + errnoText(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  json j = json::parse(ss.str(), nullptr, false);
  if (j.is_discarded()) return Status::InvalidArgument(path + ": not JSON");
  return j;
}

// Every `<id>.json` of a directory; stale `.tmp` files of an interrupted write are removed.
std::vector<std::string> listIds(const std::string& dir) {
  std::vector<std::string> ids;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0) {
      fs::remove(entry.path(), ec);
      continue;
    }
    if (name.size() <= 5 || name.compare(name.size() - 5, 5, kSuffix) != 0) continue;
    ids.push_back(name.substr(0, name.size() - 5));
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

void moveAside(const std::string& path, const Status& why) {
  log::warn("unreadable command file moved aside", {{"path", path}, {"error", why.message()}});
  std::error_code ec;
  fs::rename(path, path + ".bad", ec);
}

}  // namespace

std::string resultToJsonText(const protocol::CommandResult& result) {
  return resultToJson(result).dump();
}

Result<protocol::CommandResult> resultFromJsonText(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return Status::InvalidArgument("result: not JSON");
  return resultFromJson(j);
}

CommandJournal::CommandJournal(std::string dir)
    : dir_(std::move(dir)), journal_dir_(dir_ + "/journal"), spool_dir_(dir_ + "/spool") {}

bool CommandJournal::validCommandId(const std::string& id) {
  if (id.empty() || id.size() > 128 || id == "." || id == "..") return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

Result<std::unique_ptr<CommandJournal>> CommandJournal::open(const std::string& dir) {
  std::unique_ptr<CommandJournal> j(new CommandJournal(dir));
  for (const std::string& d : {j->dir_, j->journal_dir_, j->spool_dir_}) {
    std::error_code ec;
    fs::create_directories(d, ec);
    if (ec) return Status::IoError("create " + d + ": " + ec.message());
    fs::permissions(d, fs::perms::owner_all, fs::perm_options::replace, ec);
  }
  for (const auto& id : listIds(j->journal_dir_)) {
    const std::string path = j->journal_dir_ + "/" + id + kSuffix;
    auto parsed = readJson(path);
    Result<JournalEntry> entry = parsed.ok() ? entryFromJson(*parsed) : parsed.status();
    if (!entry.ok() || entry->command_id != id) {
      moveAside(path,
                entry.ok() ? Status::InvalidArgument("id differs from file name") : entry.status());
      continue;
    }
    j->entries_[id] = std::move(entry).value();
  }
  for (const auto& id : listIds(j->spool_dir_)) {
    const std::string path = j->spool_dir_ + "/" + id + kSuffix;
    auto parsed = readJson(path);
    Result<protocol::CommandResult> result =
        parsed.ok() ? resultFromJson(*parsed) : Result<protocol::CommandResult>(parsed.status());
    if (!result.ok() || result->command_id != id) {
      moveAside(path, result.ok() ? Status::InvalidArgument("id differs from file name")
                                  : result.status());
      continue;
    }
    // The spool is written first: a crash before the journal update is repaired here.
    JournalEntry& e = j->entries_[id];
    e.command_id = id;
    if (!e.result) {
      e.result = *result;
      if (e.done_ms == 0) e.done_ms = e.received_ms;
      NOA_RETURN_IF_ERROR(j->writeEntry(e));
    }
    e.spooled = true;
  }
  return j;
}

const JournalEntry* CommandJournal::find(const std::string& id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second;
}

Status CommandJournal::writeEntry(const JournalEntry& entry) {
  return writeFileAtomic(journal_dir_, entry.command_id + kSuffix, entryToJson(entry).dump());
}

Status CommandJournal::recordAccepted(const std::string& id, const std::string& action,
                                      int64_t now_ms) {
  if (!validCommandId(id)) return Status::InvalidArgument("command id '" + id + "' is not valid");
  JournalEntry e;
  e.command_id = id;
  e.action = action;
  e.received_ms = now_ms;
  NOA_RETURN_IF_ERROR(writeEntry(e));
  entries_[id] = std::move(e);
  return Status::Ok();
}

Status CommandJournal::recordArtifact(const std::string& id, const std::string& path) {
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.result) {
    return Status::FailedPrecondition("command '" + id + "' is not running");
  }
  JournalEntry e = it->second;
  e.artifact_path = path;
  NOA_RETURN_IF_ERROR(writeEntry(e));
  it->second = std::move(e);
  return Status::Ok();
}

Status CommandJournal::recordResult(const protocol::CommandResult& result, int64_t now_ms) {
  const std::string& id = result.command_id;
  if (!validCommandId(id)) return Status::InvalidArgument("command id '" + id + "' is not valid");
  NOA_RETURN_IF_ERROR(writeFileAtomic(spool_dir_, id + kSuffix, resultToJsonText(result)));
  JournalEntry e;
  if (auto it = entries_.find(id); it != entries_.end()) e = it->second;
  e.command_id = id;
  if (e.received_ms == 0) e.received_ms = now_ms;
  e.done_ms = now_ms;
  e.result = result;
  e.spooled = true;
  // The spool already holds the result; were this write lost, open() repairs the journal.
  Status journaled = writeEntry(e);
  entries_[id] = std::move(e);
  return journaled;
}

Status CommandJournal::dropFromSpool(const std::string& id) {
  auto it = entries_.find(id);
  if (it == entries_.end() || !it->second.spooled) return Status::Ok();
  NOA_RETURN_IF_ERROR(removeDurably(spool_dir_, id + kSuffix));
  it->second.spooled = false;
  return Status::Ok();
}

std::vector<protocol::CommandResult> CommandJournal::spooled() const {
  std::vector<const JournalEntry*> list;
  for (const auto& [id, e] : entries_) {
    if (e.spooled && e.result) list.push_back(&e);
  }
  std::sort(list.begin(), list.end(), [](const JournalEntry* a, const JournalEntry* b) {
    return a->done_ms != b->done_ms ? a->done_ms < b->done_ms : a->command_id < b->command_id;
  });
  std::vector<protocol::CommandResult> out;
  for (const auto* e : list) out.push_back(*e->result);
  return out;
}

std::vector<JournalEntry> CommandJournal::unfinished() const {
  std::vector<JournalEntry> out;
  for (const auto& [id, e] : entries_) {
    if (!e.result) out.push_back(e);
  }
  return out;
}

size_t CommandJournal::prune(int64_t cutoff_ms) {
  size_t removed = 0;
  for (auto it = entries_.begin(); it != entries_.end();) {
    const JournalEntry& e = it->second;
    if (e.result && !e.spooled && e.done_ms < cutoff_ms &&
        removeDurably(journal_dir_, it->first + kSuffix).ok()) {
      it = entries_.erase(it);
      ++removed;
    } else {
      ++it;
    }
  }
  return removed;
}

}  // namespace noa::agent::commands
