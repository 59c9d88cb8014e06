#include "agent/replication/pg_control.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent/actions/pg_common.h"
#include "agent/replication/detached_spawn.h"
#include "common/log.h"

namespace noa::agent::replication {
namespace {

using std::chrono::milliseconds;

Result<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

}  // namespace

Result<std::vector<std::string>> parsePostmasterOpts(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  if (text.find('\n') != std::string_view::npos) {
    return Status::InvalidArgument("postmaster.opts has more than one line");
  }
  std::vector<std::string> argv;
  size_t first_end = text.find(" \"");
  argv.emplace_back(text.substr(0, first_end));
  if (argv[0].empty()) return Status::InvalidArgument("postmaster.opts names no program");
  size_t pos = first_end;
  while (pos != std::string_view::npos) {
    // At ` "`: the argument runs to the next `" "` or to a final `"`.
    size_t begin = pos + 2;
    size_t end = text.find("\" \"", begin);
    if (end == std::string_view::npos) {
      if (text.size() < begin + 1 || text.back() != '"') {
        return Status::InvalidArgument("postmaster.opts: unterminated argument");
      }
      argv.emplace_back(text.substr(begin, text.size() - 1 - begin));
      break;
    }
    argv.emplace_back(text.substr(begin, end - begin));
    pos = end + 1;
  }
  return argv;
}

Result<ControlData> parseControlData(std::string_view text) {
  ControlData out;
  bool have_state = false;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = trim(std::string_view(line).substr(0, colon));
    const std::string value = trim(std::string_view(line).substr(colon + 1));
    if (key == "Database cluster state") {
      out.state = value;
      have_state = true;
    } else if (key == "Latest checkpoint's TimeLineID") {
      out.timeline = std::atoi(value.c_str());
    } else if (key == "Latest checkpoint location") {
      out.checkpoint_lsn = value;
    }
  }
  if (!have_state) {
    return Status::InvalidArgument("pg_controldata printed no 'Database cluster state' line");
  }
  return out;
}

Status toolStatus(const std::string& tool, const ProcessResult& run) {
  if (run.exit_code == 0 && !run.timed_out && !run.cancelled) return Status::Ok();
  if (run.cancelled) return Status::Cancelled(tool + " was cancelled");
  if (run.timed_out) return Status::DeadlineExceeded(tool + " did not finish in time; killed");
  std::string last = actions::tailLines(run.stderr_tail + run.stdout_tail, 3);
  if (run.term_signal != 0) {
    return Status::Internal(tool + " was killed by signal " + std::to_string(run.term_signal));
  }
  return Status::Internal(tool + " exited with status " + std::to_string(run.exit_code) +
                          (last.empty() ? "" : ": " + last));
}

Result<PgControl> PgControl::open(PgControlOptions options) {
  if (options.data_dir.empty()) return Status::InvalidArgument("no PostgreSQL data dir given");
  if (options.bin_dir.empty()) options.bin_dir = kDefaultPgBinDir;
  struct stat st;
  if (::stat(options.data_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument("data dir '" + options.data_dir + "' is not a directory");
  }
  struct stat version;
  if (::stat((options.data_dir + "/PG_VERSION").c_str(), &version) != 0) {
    return Status::InvalidArgument("data dir '" + options.data_dir +
                                   "' holds no PostgreSQL cluster (no PG_VERSION)");
  }
  return PgControl(std::move(options), st.st_uid, st.st_gid);
}

pid_t PgControl::postmasterPid() const {
  auto text = readFile(options_.data_dir + "/postmaster.pid");
  if (!text.ok()) return 0;
  // The first line is the postmaster's pid (negative for a single-user backend).
  long pid = std::atol(text->c_str());
  if (pid < 0) pid = -pid;
  return processAlive(static_cast<pid_t>(pid)) ? static_cast<pid_t>(pid) : 0;
}

Result<ProcessResult> PgControl::runTool(const std::string& tool,
                                         const std::vector<std::string>& args, milliseconds timeout,
                                         const std::map<std::string, std::string>& env,
                                         const StopToken* cancel) const {
  ProcessSpec spec;
  spec.argv = {options_.bin_dir + "/" + tool};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env = env;
  // Parsed output (pg_controldata, pg_rewind) must not be translated.
  spec.env["LC_ALL"] = "C";
  spec.env["LANG"] = "C";
  spec.working_dir = "/";
  spec.timeout = timeout;
  if (::geteuid() == 0 && uid_ != 0) {
    spec.uid = uid_;
    spec.gid = gid_;
  }
  return runProcess(spec, cancel);
}

Status PgControl::stop(milliseconds timeout) {
  if (!running()) return Status::Ok();
  const auto seconds = std::max<int64_t>(1, timeout.count() / 1000);
  NOA_ASSIGN_OR_RETURN(ProcessResult run, runTool("pg_ctl",
                                                  {"stop", "-D", options_.data_dir, "-m", "fast",
                                                   "-w", "-t", std::to_string(seconds)},
                                                  timeout + std::chrono::seconds(5)));
  if (toolStatus("pg_ctl stop", run).ok() || !running()) return Status::Ok();
  // A client in a long COPY or a stuck backend can hold a fast shutdown; a fence must hold
  // anyway. Immediate needs crash recovery at the next start, which start() and pg.follow handle.
  log::warn("fast shutdown did not finish; stopping immediately",
            {{"data_dir", options_.data_dir}, {"stderr", actions::tailLines(run.stderr_tail, 2)}});
  NOA_ASSIGN_OR_RETURN(
      ProcessResult now,
      runTool("pg_ctl", {"stop", "-D", options_.data_dir, "-m", "immediate", "-w", "-t", "30"},
              std::chrono::seconds(35)));
  if (!running()) return Status::Ok();
  return toolStatus("pg_ctl stop -m immediate", now);
}

Result<std::string> PgControl::postmasterOpts() const {
  return readFile(options_.data_dir + "/postmaster.opts");
}

Status PgControl::restorePostmasterOpts(const std::string& text) const {
  return writeOwnedFile(options_.data_dir + "/postmaster.opts", text);
}

Result<std::vector<std::string>> PgControl::lastCommandLine() const {
  NOA_ASSIGN_OR_RETURN(std::string text, postmasterOpts());
  auto argv = parsePostmasterOpts(text);
  if (!argv.ok()) return argv.status().withContext(options_.data_dir);
  return argv;
}

void PgControl::removeStalePidFile() const {
  const std::string path = options_.data_dir + "/postmaster.pid";
  auto text = readFile(path);
  if (!text.ok()) return;
  long pid = std::atol(text->c_str());
  if (pid < 0) pid = -pid;
  if (pid <= 0 || processAlive(static_cast<pid_t>(pid))) return;
  // Lines 4 and 5 name the port and the (first) socket directory, whose lock file the same
  // dead postmaster holds: the next start refuses over that one too.
  std::vector<std::string> lines;
  std::istringstream in(*text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  if (lines.size() >= 5 && !lines[3].empty() && !lines[4].empty()) {
    const std::string lock = lines[4] + "/.s.PGSQL." + lines[3] + ".lock";
    auto lock_text = readFile(lock);
    if (lock_text.ok() && std::atol(lock_text->c_str()) == pid && ::unlink(lock.c_str()) == 0) {
      log::warn("removed a stale socket lock file", {{"path", lock}, {"pid", pid}});
    }
  }
  if (::unlink(path.c_str()) == 0) {
    log::warn("removed a stale postmaster.pid (its postmaster is dead or a zombie)",
              {{"data_dir", options_.data_dir}, {"pid", pid}});
  }
}

Status PgControl::start(milliseconds timeout) {
  if (running()) return Status::Ok();
  removeStalePidFile();
  NOA_ASSIGN_OR_RETURN(std::vector<std::string> argv, lastCommandLine());
  DetachedSpec spec;
  spec.argv = std::move(argv);
  spec.log_path = logPath();
  if (::geteuid() == 0 && uid_ != 0) {
    spec.uid = uid_;
    spec.gid = gid_;
  }
  const auto started = std::chrono::steady_clock::now();
  NOA_ASSIGN_OR_RETURN(pid_t pid, spawnDetached(spec));
  log::info("postgres started from postmaster.opts",
            {{"data_dir", options_.data_dir}, {"pid", pid}});
  const auto until = started + timeout;
  while (true) {
    if (!options_.ping_conninfo.empty() && PQping(options_.ping_conninfo.c_str()) == PQPING_OK) {
      return Status::Ok();
    }
    if (!processAlive(pid)) {
      auto log_text = readFile(logPath());
      return Status::Unavailable("postgres exited during startup: " +
                                 actions::tailLines(log_text.ok() ? *log_text : "", 5));
    }
    if (options_.ping_conninfo.empty() && postmasterPid() == pid) return Status::Ok();
    if (std::chrono::steady_clock::now() >= until) {
      return Status::DeadlineExceeded("postgres (pid " + std::to_string(pid) +
                                      ") does not accept connections after " +
                                      std::to_string(timeout.count()) + " ms; see " + logPath());
    }
    // Startup has no event to wait on; the loop is bounded by `timeout`.
    std::this_thread::sleep_for(milliseconds(50));
  }
}

Result<ControlData> PgControl::controlData() const {
  NOA_ASSIGN_OR_RETURN(ProcessResult run, runTool("pg_controldata", {"-D", options_.data_dir},
                                                  std::chrono::seconds(30)));
  NOA_RETURN_IF_ERROR(toolStatus("pg_controldata", run));
  return parseControlData(run.stdout_tail);
}

Status PgControl::crashRecover(milliseconds timeout) {
  if (running()) return Status::FailedPrecondition("crash recovery needs a stopped server");
  removeStalePidFile();
  NOA_ASSIGN_OR_RETURN(std::vector<std::string> argv, lastCommandLine());
  // "--single" must come first; the database name comes last; stdin is /dev/null, so the
  // backend exits (with a shutdown checkpoint) as soon as recovery is done.
  std::vector<std::string> args = {"--single"};
  args.insert(args.end(), argv.begin() + 1, argv.end());
  args.push_back("template1");
  NOA_ASSIGN_OR_RETURN(ProcessResult run, runTool("postgres", args, timeout));
  NOA_RETURN_IF_ERROR(toolStatus("postgres --single", run));
  NOA_ASSIGN_OR_RETURN(ControlData after, controlData());
  if (!after.clean()) {
    return Status::Internal("crash recovery left the cluster in state '" + after.state + "'");
  }
  return Status::Ok();
}

Status PgControl::writeOwnedFile(const std::string& path, const std::string& content) const {
  const std::string tmp = path + ".noa-tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IoError("create " + tmp + ": " + std::strerror(errno));
  auto fail = [&](const std::string& what) {
    Status s = Status::IoError(what + " " + tmp + ": " + std::strerror(errno));
    ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  };
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("write");
    done += static_cast<size_t>(n);
  }
  if (::geteuid() == 0 && ::fchown(fd, uid_, gid_) != 0) return fail("chown");
  if (::fsync(fd) != 0) return fail("fsync");
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = Status::IoError("rename " + tmp + ": " + std::strerror(errno));
    ::unlink(tmp.c_str());
    return s;
  }
  int dir = ::open(options_.data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return Status::Ok();
}

Status PgControl::writeStandbySignal() const {
  return writeOwnedFile(options_.data_dir + "/standby.signal", "");
}

Status PgControl::setAutoConf(const std::string& key, const std::string& quoted_value) const {
  const std::string path = options_.data_dir + "/postgresql.auto.conf";
  auto text = readFile(path);
  std::string current = text.ok() ? *text : "";
  if (current.empty()) {
    current =
        "# Do not edit this file manually!\n# It will be overwritten by the ALTER SYSTEM "
        "command.\n";
  }
  return writeOwnedFile(path, setAutoConfValue(current, key, quoted_value));
}

}  // namespace noa::agent::replication
