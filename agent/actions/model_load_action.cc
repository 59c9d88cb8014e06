#include "agent/actions/model_load_action.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include "agent/actions/action_params.h"
#include "agent/actions/artifact_file.h"
#include "agent/actions/gguf.h"
#include "agent/actions/pg_common.h"
#include "agent/actions/target_lock.h"
#include "agent/http/http_client.h"
#include "agent/lazy/lazy_libs.h"
#include "common/log.h"
#include "common/process/process.h"

namespace noa::agent::actions {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr size_t kBlock = 1 << 20;

std::string errnoText(int err) { return std::strerror(err); }

Status ioError(const std::string& what, int err) {
  std::string m = what + ": " + errnoText(err);
  return err == ENOSPC ? Status::ResourceExhausted(m) : Status::IoError(m);
}

bool isUrl(const std::string& s) {
  return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0;
}

struct Url {
  std::string base;  // scheme://host[:port]
  std::string path;  // "/..." (with query)
};

Result<Url> splitUrl(const std::string& url) {
  size_t scheme_end = url.find("://");
  if (!isUrl(url) || scheme_end == std::string::npos || url.size() == scheme_end + 3) {
    return Status::InvalidArgument("'" + url + "' is not an http(s) URL");
  }
  size_t slash = url.find('/', scheme_end + 3);
  if (slash == std::string::npos) return Url{url, "/"};
  return Url{url.substr(0, slash), url.substr(slash)};
}

// Cancel, deadline and throttled progress on the context's clock.
class RunControl {
 public:
  explicit RunControl(const ActionContext& ctx)
      : ctx_(ctx), start_(ctx.clock->now()), timeout_(effectiveTimeout(ctx, 0)) {}

  Status check() const {
    if (ctx_.cancel != nullptr && ctx_.cancel->stopRequested()) {
      return Status::Cancelled("model.load was cancelled");
    }
    if (timeout_.count() > 0 && ctx_.clock->now() - start_ >= timeout_) {
      return Status::DeadlineExceeded("model.load did not finish within " +
                                      std::to_string(timeout_.count()) + " ms");
    }
    return Status::Ok();
  }
  // Waits `d` unless cancelled (returns false then).
  bool pause(milliseconds d) const {
    return ctx_.cancel != nullptr ? ctx_.cancel->waitFor(d) : idle_.waitFor(d);
  }
  void progress(const std::string& phase, uint64_t done, uint64_t total, bool force = false) {
    if (!ctx_.on_progress) return;
    MonoTime now = ctx_.clock->now();
    if (!force && phase == last_phase_ && now - last_report_ < std::chrono::seconds(1)) return;
    last_phase_ = phase;
    last_report_ = now;
    ctx_.on_progress(Progress{phase, done, total});
  }
  const Clock& clock() const { return *ctx_.clock; }
  const StopToken* cancel() const { return ctx_.cancel; }
  milliseconds elapsed() const {
    return std::chrono::duration_cast<milliseconds>(ctx_.clock->now() - start_);
  }

 private:
  const ActionContext& ctx_;
  MonoTime start_;
  milliseconds timeout_;
  StopToken idle_;  // never stopped: a plain wait when the caller gave no cancel token
  std::string last_phase_;
  MonoTime last_report_{};
};

// ---- fetch ------------------------------------------------------------------------------

class PartialFile {
 public:
  ~PartialFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  Status open(const std::string& path, bool keep_existing) {
    path_ = path;
    NOA_RETURN_IF_ERROR(lazy::loadLibcrypto());  // the hash below is OpenSSL's, opened on first use
    int flags = O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (keep_existing ? 0 : O_TRUNC);
    fd_ = ::open(path.c_str(), flags, 0600);
    if (fd_ < 0) return ioError("open " + path, errno);
    hash_ = std::make_unique<Sha256>();
    std::vector<char> buf(kBlock);
    for (;;) {  // a resumed download hashes what it already has
      ssize_t n = ::read(fd_, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ioError("read " + path, errno);
      if (n == 0) break;
      hash_->update(buf.data(), static_cast<size_t>(n));
      bytes_ += static_cast<uint64_t>(n);
    }
    return Status::Ok();
  }
  Status restart() {
    if (::ftruncate(fd_, 0) != 0 || ::lseek(fd_, 0, SEEK_SET) != 0) {
      return ioError("truncate " + path_, errno);
    }
    hash_ = std::make_unique<Sha256>();
    bytes_ = 0;
    return Status::Ok();
  }
  Status append(const char* data, size_t size) {
    hash_->update(data, size);
    while (size > 0) {
      ssize_t n = ::write(fd_, data, size);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ioError("write " + path_, errno);
      data += n;
      size -= static_cast<size_t>(n);
      bytes_ += static_cast<uint64_t>(n);
    }
    return Status::Ok();
  }
  Status sync() {
    if (::fsync(fd_) != 0) return ioError("fsync " + path_, errno);
    return Status::Ok();
  }
  uint64_t bytes() const { return bytes_; }
  std::string finishHex() { return hash_->finishHex(); }

 private:
  std::string path_;
  int fd_ = -1;
  std::unique_ptr<Sha256> hash_;
  uint64_t bytes_ = 0;
};

Status copyLocal(const std::string& source, PartialFile& out, RunControl& run) {
  int fd = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::InvalidArgument("open source " + source + ": " + errnoText(errno));
  struct stat st {};
  ::fstat(fd, &st);
  std::vector<char> buf(kBlock);
  Status s;
  for (;;) {
    if (s = run.check(); !s.ok()) break;
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      s = ioError("read " + source, errno);
      break;
    }
    if (n == 0) break;
    if (s = out.append(buf.data(), static_cast<size_t>(n)); !s.ok()) break;
    run.progress("copy", out.bytes(), static_cast<uint64_t>(st.st_size));
  }
  ::close(fd);
  return s;
}

// Downloads `url` into `out`, resuming from out.bytes() with a Range request. Sets
// `interrupted` when the transfer broke off on the network (the partial is worth keeping).
Status download(const std::string& url, PartialFile& out, RunControl& run, bool& interrupted) {
  HttpRequest request;
  request.url = url;
  request.max_redirects = 5;
  request.connect_timeout = std::chrono::seconds(10);
  request.io_timeout = std::chrono::seconds(30);  // a stalled transfer, not a slow one
  const uint64_t resume_from = out.bytes();
  if (resume_from > 0) {
    request.headers.emplace_back("Range", "bytes=" + std::to_string(resume_from) + "-");
  }
  Status failure;
  uint64_t total = 0;
  HttpHandlers handlers{
      [&](const HttpResponseHead& r) {
        const uint64_t length = r.content_length.value_or(0);
        if (r.status == 206 && resume_from > 0) {
          total = resume_from + length;
          return true;
        }
        if (r.status == 200) {
          total = length;
          if (resume_from > 0) failure = out.restart();  // server ignored the Range: start over
          return failure.ok();
        }
        if (r.status == 416 && resume_from > 0) return true;  // the partial is already whole
        failure = Status::Unavailable("GET " + url + " answered HTTP " + std::to_string(r.status));
        return false;
      },
      [&](const char* data, size_t size) {
        if (failure = run.check(); !failure.ok()) return false;
        if (failure = out.append(data, size); !failure.ok()) return false;
        run.progress("download", out.bytes(), total);
        return true;
      }};
  Result<HttpExchange> res = httpExchange(request, handlers);
  if (!failure.ok()) return failure;
  if (!res.ok()) {
    interrupted = out.bytes() > 0;
    return Status::Unavailable(
        "GET " + url + " failed: " + httpErrorReason(res.status()) +
        (interrupted ? " after " + std::to_string(out.bytes()) + " bytes (kept for resume)" : ""));
  }
  return Status::Ok();
}

// ---- switch, reload, health -----------------------------------------------------------------

Status switchLink(const std::string& link, const std::string& target_text) {
  const std::string tmp = link + ".tmp-" + std::to_string(::getpid());
  ::unlink(tmp.c_str());
  if (::symlink(target_text.c_str(), tmp.c_str()) != 0) {
    return ioError("symlink " + tmp + " -> " + target_text, errno);
  }
  if (::rename(tmp.c_str(), link.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return ioError("rename " + tmp + " -> " + link, err);
  }
  std::string dir = fs::path(link).parent_path().string();
  return fsyncDir(dir.empty() ? "." : dir);
}

Status reload(const ModelLoadParams& p, const std::string& model_name, RunControl& run,
              std::string& stderr_tail) {
  if (!p.restart_command.empty()) {
    ProcessSpec spec;
    spec.argv = p.restart_command;
    spec.timeout = milliseconds(p.restart_timeout_ms);
    auto r = runProcess(spec, run.cancel());
    if (!r.ok()) return Status::FailedPrecondition("restart command: " + r.status().message());
    stderr_tail = tailLines(r->stderr_tail);
    if (r->cancelled) return Status::Cancelled("restart command was cancelled");
    if (r->timed_out || r->exit_code != 0) {
      return Status::FailedPrecondition(
          "restart command " + p.restart_command[0] +
          (r->timed_out ? " timed out" : " exited with " + std::to_string(r->exit_code)));
    }
    return Status::Ok();
  }
  NOA_ASSIGN_OR_RETURN(Url u, splitUrl(p.router_url));
  std::string base_path = u.path == "/" ? "" : u.path;
  HttpRequest request;
  request.method = "POST";
  request.url = u.base + base_path + "/models/load";
  request.body = nlohmann::json{{"model", model_name}}.dump();
  request.content_type = "application/json";
  request.connect_timeout = std::chrono::seconds(5);
  request.io_timeout = std::chrono::seconds(30);
  Result<HttpResponse> res = httpCall(request, 64 * 1024);
  if (!res.ok()) {
    return Status::FailedPrecondition("POST " + p.router_url +
                                      "/models/load: " + httpErrorReason(res.status()));
  }
  if (res->head.status / 100 != 2) {
    return Status::FailedPrecondition("POST " + p.router_url + "/models/load answered HTTP " +
                                      std::to_string(res->head.status) + ": " +
                                      res->body.substr(0, 200));
  }
  return Status::Ok();
}

// Polls /health until 200. Refused connections and 503 mean "still loading".
Status waitHealthy(const ModelLoadParams& p, RunControl& run, int& polls) {
  NOA_ASSIGN_OR_RETURN(Url u, splitUrl(p.health_url));
  HttpRequest request;
  request.url = u.base + (u.path == "/" ? "" : u.path) + "/health";
  request.connect_timeout = std::chrono::seconds(1);
  request.io_timeout = std::chrono::seconds(2);
  const MonoTime deadline = run.clock().now() + milliseconds(p.load_timeout_ms);
  std::string last = "no answer yet";
  polls = 0;
  for (;;) {
    polls++;
    Result<HttpResponse> res = httpCall(request, 64 * 1024);
    if (res.ok() && res->head.status == 200) return Status::Ok();
    last = res.ok() ? "HTTP " + std::to_string(res->head.status) + " " + res->body.substr(0, 120)
                    : httpErrorReason(res.status());
    if (run.clock().now() >= deadline) {
      return Status::DeadlineExceeded("not healthy within " + std::to_string(p.load_timeout_ms) +
                                      " ms (last /health: " + last + ")");
    }
    if (!run.pause(milliseconds(p.poll_interval_ms))) {
      return Status::Cancelled("cancelled while waiting for /health");
    }
  }
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Result<ModelLoadParams> ModelLoadParams::fromJson(const nlohmann::json& json) {
  NOA_ASSIGN_OR_RETURN(
      auto r, ParamReader::open(json, "model.load",
                                {"source", "expected_sha256", "models_dir", "name", "active_link",
                                 "reload", "health_url", "load_timeout_ms", "poll_interval_ms",
                                 "restart_timeout_ms", "lock_dir", "target"}));
  ModelLoadParams p;
  p.lock_dir = kDefaultLockDir;
  NOA_RETURN_IF_ERROR(r.str("source", p.source, true));
  NOA_RETURN_IF_ERROR(r.str("expected_sha256", p.expected_sha256, true));
  NOA_RETURN_IF_ERROR(r.str("models_dir", p.models_dir, true));
  NOA_RETURN_IF_ERROR(r.str("name", p.name));
  NOA_RETURN_IF_ERROR(r.str("active_link", p.active_link));
  NOA_RETURN_IF_ERROR(r.str("health_url", p.health_url));
  NOA_RETURN_IF_ERROR(r.integer("load_timeout_ms", p.load_timeout_ms, 1, 86'400'000));
  NOA_RETURN_IF_ERROR(r.integer("poll_interval_ms", p.poll_interval_ms, 10, 60'000));
  NOA_RETURN_IF_ERROR(r.integer("restart_timeout_ms", p.restart_timeout_ms, 1, 3'600'000));
  NOA_RETURN_IF_ERROR(r.str("lock_dir", p.lock_dir));
  NOA_RETURN_IF_ERROR(r.str("target", p.target));

  auto reload = json.find("reload");
  if (reload == json.end()) {
    return Status::InvalidArgument(
        "model.load: param 'reload' is required "
        "({\"restart_command\": [...]} or {\"router_url\": \"...\"})");
  }
  NOA_ASSIGN_OR_RETURN(
      auto rr, ParamReader::open(*reload, "model.load reload", {"restart_command", "router_url"}));
  NOA_RETURN_IF_ERROR(rr.strList("restart_command", p.restart_command));
  NOA_RETURN_IF_ERROR(rr.str("router_url", p.router_url));
  if (p.restart_command.empty() == p.router_url.empty()) {
    return Status::InvalidArgument(
        "model.load: 'reload' needs exactly one of 'restart_command' (non-empty argv) and "
        "'router_url'");
  }
  if (!p.router_url.empty()) NOA_RETURN_IF_ERROR(splitUrl(p.router_url).status());
  if (p.health_url.empty()) p.health_url = p.router_url;
  if (p.health_url.empty()) {
    return Status::InvalidArgument(
        "model.load: param 'health_url' is required with "
        "restart_command");
  }
  NOA_RETURN_IF_ERROR(splitUrl(p.health_url).status());

  bool hex = p.expected_sha256.size() == 64;
  for (char c : p.expected_sha256) hex = hex && std::isxdigit(static_cast<unsigned char>(c));
  if (!hex) return Status::InvalidArgument("model.load: 'expected_sha256' must be 64 hex digits");
  p.expected_sha256 = lower(p.expected_sha256);
  if (p.name.empty()) {
    std::string from = p.source;
    if (isUrl(from)) from = from.substr(0, from.find_first_of("?#"));
    p.name = fs::path(from).filename().string();
  }
  if (!isPlainFileName(p.name)) {
    return Status::InvalidArgument("model.load: 'name' must be a plain file name (got '" + p.name +
                                   "')");
  }
  if (p.active_link.empty()) p.active_link = p.models_dir + "/active.gguf";
  return p;
}

ActionResult runModelLoad(const ModelLoadParams& p, const ActionContext& ctx) {
  ActionResult result;
  RunControl run(ctx);
  auto finish = [&]() -> ActionResult {
    result.duration = run.elapsed();
    return result;
  };
  std::error_code ec;
  const fs::path models_dir = fs::canonical(p.models_dir, ec);
  if (ec || !fs::is_directory(models_dir)) {
    fail(result, kErrInvalidParams, "models_dir " + p.models_dir + " is not a directory");
    return finish();
  }
  const std::string dest = (models_dir / p.name).string();
  const std::string partial = dest + std::string(kPartialSuffix);

  // What the active link points to now: the model to come back to.
  struct stat lst {};
  std::string previous;
  if (::lstat(p.active_link.c_str(), &lst) == 0) {
    if (!S_ISLNK(lst.st_mode)) {
      fail(result, kErrRefused,
           "active_link " + p.active_link + " exists and is not a symlink; refusing to replace it");
      return finish();
    }
    previous = fs::read_symlink(p.active_link, ec).string();
  }
  const fs::path link_dir = fs::weakly_canonical(fs::path(p.active_link).parent_path(), ec);
  const std::string link_text = link_dir == models_dir ? p.name : dest;
  const std::string previous_name = fs::path(previous).filename().string();

  auto lock = TargetLock::acquire(
      p.lock_dir, p.target.empty() ? "model." + models_dir.filename().string() : p.target);
  if (!lock.ok()) {
    fail(result, errorCodeFor(lock.status()), lock.status().message());
    return finish();
  }
  result.details = {{"model", p.name},
                    {"previous", previous_name},
                    {"mode", p.restart_command.empty() ? "router" : "restart"}};

  // 1-2. Fetch and verify (skipped when the same bytes are installed already).
  bool installed = false;
  auto existing = ::access(dest.c_str(), F_OK) == 0 ? sha256OfFile(dest)
                                                    : Result<std::string>(Status::NotFound(""));
  if (existing.ok() && *existing == p.expected_sha256) {
    result.bytes = fs::file_size(dest, ec);
  } else {
    if (existing.ok() && (previous == p.name || previous == dest)) {
      fail(result, kErrRefused,
           dest + " is the active model and has other contents (sha256 " + *existing +
               "); install the new model under another name");
      return finish();
    }
    PartialFile out;
    const bool url = isUrl(p.source);
    Status s = out.open(partial, url);
    bool interrupted = false;
    if (s.ok()) s = url ? download(p.source, out, run, interrupted) : copyLocal(p.source, out, run);
    if (!s.ok()) {
      if (!interrupted || s.code() == StatusCode::kResourceExhausted) ::unlink(partial.c_str());
      fail(result, s.code() == StatusCode::kUnavailable ? kErrIo : errorCodeFor(s),
           "fetching " + p.source + " failed: " + s.message() + "; nothing was switched");
      if (interrupted) result.details["partial_kept"] = partial;
      return finish();
    }
    run.progress("verify", out.bytes(), out.bytes(), true);
    const std::string sha = out.finishHex();
    if (sha != p.expected_sha256) {
      ::unlink(partial.c_str());
      fail(result, kErrChecksumMismatch,
           p.source + " has sha256 " + sha + ", expected " + p.expected_sha256 +
               ": the file was deleted and nothing was switched");
      return finish();
    }
    auto gguf = checkGgufFile(partial);
    if (!gguf.ok()) {
      ::unlink(partial.c_str());
      fail(result, kErrVerifyFailed,
           "GGUF pre-flight refused " + p.source + ": " + gguf.status().message() +
               "; nothing was switched");
      return finish();
    }
    result.details["gguf"] = {{"version", gguf->version},
                              {"architecture", gguf->architecture},
                              {"tensors", gguf->tensor_count}};
    s = out.sync();
    if (s.ok() && ::rename(partial.c_str(), dest.c_str()) != 0)
      s = ioError("rename " + partial, errno);
    if (s.ok()) s = fsyncDir(models_dir.string());
    if (!s.ok()) {
      ::unlink(partial.c_str());
      fail(result, errorCodeFor(s), s.message());
      return finish();
    }
    installed = true;
    result.bytes = out.bytes();
  }
  result.sha256 = p.expected_sha256;
  result.artifact_path = dest;
  result.details["installed"] = installed;

  // 3-5. Switch, reload, wait.
  run.progress("switch", result.bytes, result.bytes, true);
  if (Status s = switchLink(p.active_link, link_text); !s.ok()) {
    fail(result, errorCodeFor(s), s.message());
    return finish();
  }
  run.progress("reload", result.bytes, result.bytes, true);
  const MonoTime load_start = run.clock().now();
  int polls = 0;
  Status s = reload(p, p.name, run, result.stderr_tail);
  if (s.ok()) {
    run.progress("wait_health", result.bytes, result.bytes, true);
    s = waitHealthy(p, run, polls);
  }
  result.details["health_polls"] = polls;
  if (s.ok()) {
    result.details["load_ms"] =
        std::chrono::duration_cast<milliseconds>(run.clock().now() - load_start).count();
    run.progress("done", result.bytes, result.bytes, true);
    result.ok = true;
    log::info("model loaded", {{"model", p.name}, {"previous", previous_name}, {"polls", polls}});
    return finish();
  }

  // 6. Roll back to the previous model, if there was one.
  const char* code = s.code() == StatusCode::kDeadlineExceeded ? kErrHealthTimeout
                     : s.code() == StatusCode::kCancelled      ? kErrCancelled
                                                               : kErrToolFailed;
  std::string what = "model " + p.name + " " +
                     (s.code() == StatusCode::kDeadlineExceeded ? "" : "reload failed: ") +
                     s.message();
  log::warn("model load failed", {{"model", p.name}, {"error", s.message()}});
  if (previous.empty()) {
    ::unlink(p.active_link.c_str());
    (void)fsyncDir(link_dir.string());
    fail(result, code, what + "; there was no previous model, the active link was removed");
    return finish();
  }
  run.progress("rollback", result.bytes, result.bytes, true);
  nlohmann::json rollback = {{"to", previous_name}};
  Status rs = switchLink(p.active_link, previous);
  std::string rollback_tail;
  if (rs.ok()) rs = reload(p, previous_name, run, rollback_tail);
  int rollback_polls = 0;
  if (rs.ok()) rs = waitHealthy(p, run, rollback_polls);
  rollback["healthy"] = rs.ok();
  rollback["health_polls"] = rollback_polls;
  if (!rs.ok()) rollback["error"] = rs.message();
  result.details["rollback"] = rollback;
  fail(result, code,
       what + "; rolled back to " + previous_name +
           (rs.ok() ? " (healthy again)" : " but that failed too: " + rs.message()));
  log::warn("model rolled back", {{"model", p.name}, {"to", previous_name}, {"healthy", rs.ok()}});
  return finish();
}

}  // namespace noa::agent::actions
