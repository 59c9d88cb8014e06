#include "agent/actions/retention_action.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "agent/actions/action_params.h"
#include "agent/actions/artifact_file.h"

namespace noa::agent::actions {
namespace {

constexpr const char* kAction = "retention.prune";

// Pinned / in-use lists may hold names or paths; compare by artifact name.
bool listed(const std::string& dir, const std::vector<std::string>& names,
            const std::string& name) {
  for (const auto& n : names) {
    if (n == name || artifactNameInDir(dir, n) == name) return true;
  }
  return false;
}

}  // namespace

Result<PruneParams> PruneParams::fromJson(const nlohmann::json& json) {
  NOA_ASSIGN_OR_RETURN(
      ParamReader r,
      ParamReader::open(json, kAction, {"backup_dir", "artifacts", "pinned", "in_use", "dry_run"}));
  PruneParams p;
  NOA_RETURN_IF_ERROR(r.str("backup_dir", p.backup_dir, /*required=*/true));
  NOA_RETURN_IF_ERROR(r.strList("artifacts", p.artifacts));
  NOA_RETURN_IF_ERROR(r.strList("pinned", p.pinned));
  NOA_RETURN_IF_ERROR(r.strList("in_use", p.in_use));
  NOA_RETURN_IF_ERROR(r.boolean("dry_run", p.dry_run));
  return p;
}

std::string artifactNameInDir(const std::string& backup_dir, const std::string& name_or_path) {
  namespace fs = std::filesystem;
  if (name_or_path.find('\0') != std::string::npos) return "";
  fs::path p(name_or_path);
  if (p.is_relative()) {
    // Only a bare name: "sub/x" or "./x" would need normalisation that hides intent.
    return isPlainFileName(name_or_path) ? name_or_path : "";
  }
  // An absolute path counts only when it names a file directly inside backup_dir, compared
  // lexically and with no ".." anywhere (a symlinked dir is not followed either).
  for (const auto& part : p) {
    if (part == "..") return "";
  }
  fs::path dir = fs::path(backup_dir).lexically_normal();
  // "/backups/" normalises to "/backups/" (empty filename): compare without the slash.
  if (!dir.has_filename() && dir.has_parent_path()) dir = dir.parent_path();
  fs::path norm = p.lexically_normal();
  if (!norm.has_filename() || norm.parent_path() != dir) return "";
  std::string name = norm.filename().string();
  return isPlainFileName(name) ? name : "";
}

ActionResult runPrune(const PruneParams& params, const ActionContext& ctx) {
  const MonoTime started = ctx.clock->now();
  ActionResult result;
  nlohmann::json deleted = nlohmann::json::array();
  nlohmann::json kept = nlohmann::json::array();
  auto keep = [&](const std::string& name, const char* reason, const std::string& message = "") {
    nlohmann::json k = {{"name", name}, {"reason", reason}};
    if (!message.empty()) k["message"] = message;
    kept.push_back(std::move(k));
  };

  struct stat st;
  if (::stat(params.backup_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    result.ok = false;
    result.error_code = kErrInvalidParams;
    result.error = "backup_dir '" + params.backup_dir + "' is not a directory";
    result.duration =
        std::chrono::duration_cast<std::chrono::milliseconds>(ctx.clock->now() - started);
    return result;
  }

  std::string first_error;
  uint64_t freed = 0;
  for (const auto& requested : params.artifacts) {
    if (ctx.cancel != nullptr && ctx.cancel->stopRequested()) {
      keep(requested, kKeptError, "cancelled before this artifact");
      continue;
    }
    const std::string name = artifactNameInDir(params.backup_dir, requested);
    if (name.empty() || name.ends_with(".json") || name.ends_with(kPartialSuffix)) {
      keep(requested, kKeptOutsideDir,
           "only artifact files directly inside '" + params.backup_dir + "' can be pruned");
      continue;
    }
    if (listed(params.backup_dir, params.pinned, name)) {
      keep(requested, kKeptPinned);
      continue;
    }
    if (listed(params.backup_dir, params.in_use, name)) {
      keep(requested, kKeptInUse);
      continue;
    }
    const std::string path = params.backup_dir + "/" + name;
    if (::lstat(path.c_str(), &st) != 0) {
      keep(requested, kKeptNotFound);
      continue;
    }
    if (!S_ISREG(st.st_mode)) {
      keep(requested, kKeptNotAFile);
      continue;
    }
    nlohmann::json entry = {{"name", name},
                            {"bytes", static_cast<uint64_t>(st.st_size)},
                            {"files", nlohmann::json::array()}};
    bool failed = false;
    // The artifact goes first: a manifest without its artifact is visibly orphaned, an artifact
    // without its manifest would look like an unrecorded backup.
    for (const std::string& file : {path, path + ".json"}) {
      if (params.dry_run) {
        if (::access(file.c_str(), F_OK) == 0) entry["files"].push_back(file);
        continue;
      }
      if (::unlink(file.c_str()) == 0) {
        entry["files"].push_back(file);
      } else if (errno != ENOENT) {
        std::string msg = "unlink '" + file + "': " + std::strerror(errno);
        if (first_error.empty()) first_error = msg;
        keep(requested, kKeptError, msg);
        failed = true;
        break;
      }
    }
    if (!failed || !entry["files"].empty()) {
      freed += static_cast<uint64_t>(st.st_size);
      deleted.push_back(std::move(entry));
    }
  }
  if (!params.dry_run && !deleted.empty()) {
    Status synced = fsyncDir(params.backup_dir);
    if (!synced.ok() && first_error.empty()) first_error = synced.message();
  }

  result.ok = first_error.empty();
  if (!result.ok) {
    result.error_code = kErrIo;
    result.error = first_error;
  }
  result.bytes = freed;
  result.details = {{"deleted", deleted}, {"kept", kept}, {"dry_run", params.dry_run}};
  result.duration =
      std::chrono::duration_cast<std::chrono::milliseconds>(ctx.clock->now() - started);
  return result;
}

}  // namespace noa::agent::actions
