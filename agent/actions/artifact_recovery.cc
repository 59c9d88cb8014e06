#include "agent/actions/artifact_recovery.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/actions/artifact_file.h"

namespace noa::agent::actions {
namespace {

using Outcome = InterruptedArtifact::Outcome;

bool regularFile(const std::string& path, uint64_t* size = nullptr) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  if (size != nullptr) *size = static_cast<uint64_t>(st.st_size);
  return true;
}

// The manifest as JSON; discarded when it is unreadable or not JSON.
nlohmann::json readManifest(const std::string& path) {
  std::ifstream in(path);
  if (!in) return nlohmann::json(nlohmann::json::value_t::discarded);
  std::stringstream text;
  text << in.rdbuf();
  return nlohmann::json::parse(text.str(), nullptr, false);
}

// Removes what exists of `paths`, then fsyncs their directory; the first error, if any.
std::string removeAll(std::initializer_list<std::string> paths, const std::string& dir) {
  std::string error;
  for (const std::string& p : paths) {
    if (::unlink(p.c_str()) != 0 && errno != ENOENT && error.empty()) {
      error = "unlink " + p + ": " + std::strerror(errno);
    }
  }
  if (Status s = fsyncDir(dir); !s.ok() && error.empty()) error = s.message();
  return error;
}

}  // namespace

InterruptedArtifact settleInterruptedArtifact(const std::string& path,
                                              const std::string& command_id) {
  InterruptedArtifact out;
  const std::string manifest_path = path + ".json";
  const std::string dir = std::filesystem::path(path).parent_path().string();
  uint64_t size = 0;
  const bool have_artifact = regularFile(path, &size);
  const bool have_manifest = regularFile(manifest_path);
  if (!have_artifact && !have_manifest) {
    out.note = "no artifact was written";
    return out;
  }

  if (have_manifest) {
    nlohmann::json manifest = readManifest(manifest_path);
    const bool ours = manifest.is_object() && manifest.value("command_id", "") == command_id;
    if (!ours) {
      // Not provably this command's (another writer raced for the name, or a hand-made file).
      out.note = "found " + manifest_path + " but it does not name this command; left as is";
      return out;
    }
    const bool complete = have_artifact && manifest.value("size", uint64_t{0}) == size &&
                          manifest.contains("sha256") && manifest["sha256"].is_string();
    if (complete) {
      out.outcome = Outcome::kAdopted;
      out.result.ok = true;
      out.result.bytes = size;
      out.result.sha256 = manifest["sha256"].get<std::string>();
      out.result.artifact_path = path;
      out.result.details = manifest;
      out.result.details["manifest_path"] = manifest_path;
      out.result.details["adopted_after_restart"] = true;
      out.note = "the action had finished: " + path + " and its manifest are complete";
      return out;
    }
  }

  // Claimed by this command (its partial reserved the name) but not catalogued: what the action
  // does itself when its manifest cannot be written.
  const std::string what = have_artifact ? path + " (no complete manifest)" : manifest_path +
                                                                                  " (no artifact)";
  if (std::string error = removeAll({path, manifest_path}, dir); !error.empty()) {
    out.outcome = Outcome::kLeft;
    out.note = "could not remove the incomplete " + what + ": " + error;
    return out;
  }
  out.outcome = Outcome::kRemoved;
  out.note = "removed the incomplete " + what;
  return out;
}

}  // namespace noa::agent::actions
