#include "common/process/process.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/syscall.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/process/streaming_process.h"

extern char** environ;

namespace noa {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How often a wait re-checks the cancel token and the child's exit status.
constexpr milliseconds kPollSlice{50};
// After the direct child exits, how long to keep reading output that a lingering descendant
// may still hold open before giving up on EOF.
constexpr milliseconds kDrainAfterExit{200};

// What the child reports through the exec-error pipe when it cannot exec.
enum ChildStage : int { kStageChdir = 1, kStageSetgid, kStageSetuid, kStageExec };

struct ChildError {
  int stage = 0;
  int err = 0;
};

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

Status errnoStatus(std::string_view what, int err) {
  return Status::IoError(std::string(what) + ": " + std::strerror(err));
}

Status makePipe(Fd& read_end, Fd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return errnoStatus("pipe2", errno);
  read_end.reset(fds[0]);
  write_end.reset(fds[1]);
  return Status::Ok();
}

// Appends to `tail`, keeping at most `max` bytes (the newest ones). Trims in batches so a long
// stream does not cost a memmove per read.
void appendTail(std::string& tail, bool& truncated, const char* data, size_t n, size_t max) {
  tail.append(data, n);
  if (tail.size() > 2 * max + 4096) {
    tail.erase(0, tail.size() - max);
    truncated = true;
  }
}

void finishTail(std::string& tail, bool& truncated, size_t max) {
  if (tail.size() > max) {
    tail.erase(0, tail.size() - max);
    truncated = true;
  }
}

// Builds "KEY=VALUE" strings: the inherited environment with spec.env applied on top.
std::vector<std::string> buildEnv(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    std::string key(entry.substr(0, eq));
    if (extra.count(key) == 0) out.emplace_back(entry);
  }
  for (const auto& [k, v] : extra) out.push_back(k + "=" + v);
  return out;
}

// Runs in the forked child: only async-signal-safe calls from here to exec.
[[noreturn]] void childMain(const ProcessSpec& spec, char* const* argv, char* const* envp,
                            int devnull, int out_w, int err_w, int status_w) {
  ::setpgid(0, 0);
  // The parent may block or ignore signals (SIGPIPE, SIGTERM in a daemon); exec keeps ignored
  // dispositions and the mask, so restore the defaults the program expects.
  sigset_t all;
  sigemptyset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);
  for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD}) ::signal(sig, SIG_DFL);

  ::dup2(devnull, STDIN_FILENO);
  ::dup2(out_w, STDOUT_FILENO);
  ::dup2(err_w, STDERR_FILENO);
  // Nothing of the parent's beyond stdio survives exec: a tool must not hold the agent's
  // sockets or the controller's store open (a long-lived child would keep a port bound).
  ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);

  auto fail = [status_w](int stage) {
    ChildError ce{stage, errno};
    ssize_t ignored = ::write(status_w, &ce, sizeof(ce));
    (void)ignored;
    ::_exit(127);
  };
  if (!spec.working_dir.empty() && ::chdir(spec.working_dir.c_str()) != 0) fail(kStageChdir);
  if (spec.gid) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(*spec.gid) != 0) fail(kStageSetgid);
  }
  if (spec.uid && ::setuid(*spec.uid) != 0) fail(kStageSetuid);
  ::execvpe(argv[0], argv, envp);
  fail(kStageExec);
  ::_exit(127);  // unreachable; keeps [[noreturn]] obvious
}

Status childErrorStatus(const ProcessSpec& spec, const ChildError& ce) {
  std::string what;
  switch (ce.stage) {
    case kStageChdir:
      what = "chdir '" + spec.working_dir + "'";
      break;
    case kStageSetgid:
      what = "setgid " + std::to_string(spec.gid.value_or(0));
      break;
    case kStageSetuid:
      what = "setuid " + std::to_string(spec.uid.value_or(0));
      break;
    default:
      what = "exec '" + spec.argv[0] + "'";
      break;
  }
  std::string msg = what + ": " + std::strerror(ce.err);
  if (ce.err == ENOENT) return Status::NotFound(msg);
  if (ce.err == EACCES || ce.err == EPERM) return Status::PermissionDenied(msg);
  return Status::IoError(msg);
}

// runProcess and runProcessStreaming share this loop; `sink` null = keep a stdout tail.
Result<ProcessResult> runProcessImpl(const ProcessSpec& spec, const StopToken* cancel,
                                     const OutputSink* sink, Status* sink_status,
                                     uint64_t* stdout_bytes) {
  if (spec.argv.empty() || spec.argv[0].empty()) {
    return Status::InvalidArgument("process argv is empty");
  }
  if (spec.max_output_bytes == 0) return Status::InvalidArgument("max_output_bytes is 0");

  // Everything the child needs is allocated before fork: after fork only async-signal-safe
  // calls are allowed because other threads may hold the malloc lock.
  std::vector<std::string> env_strings = buildEnv(spec.env);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings = spec.argv;
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  Fd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (devnull.get() < 0) return errnoStatus("open /dev/null", errno);
  Fd out_r, out_w, err_r, err_w, status_r, status_w;
  NOA_RETURN_IF_ERROR(makePipe(out_r, out_w));
  NOA_RETURN_IF_ERROR(makePipe(err_r, err_w));
  NOA_RETURN_IF_ERROR(makePipe(status_r, status_w));

  const auto started = Clock::now();
  pid_t pid = ::fork();
  if (pid < 0) return errnoStatus("fork", errno);
  if (pid == 0) {
    childMain(spec, argv.data(), envp.data(), devnull.get(), out_w.get(), err_w.get(),
              status_w.get());
  }
  // Also set the group from the parent: whichever of the two runs first, the group exists
  // before we might signal it.
  ::setpgid(pid, pid);
  out_w.reset();
  err_w.reset();
  status_w.reset();
  devnull.reset();

  // The status pipe closes on a successful exec (O_CLOEXEC) or carries the reason it failed.
  ChildError ce;
  ssize_t n;
  do {
    n = ::read(status_r.get(), &ce, sizeof(ce));
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof(ce))) {
    int ignored;
    while (::waitpid(pid, &ignored, 0) < 0 && errno == EINTR) {
    }
    return childErrorStatus(spec, ce);
  }
  status_r.reset();
  // A bigger pipe means fewer wake-ups for a streaming producer; best effort (capped by
  // /proc/sys/fs/pipe-max-size for unprivileged callers).
  if (sink != nullptr) ::fcntl(out_r.get(), F_SETPIPE_SZ, 1 << 20);

  ProcessResult result;
  bool sink_failed = false;
  const auto deadline =
      spec.timeout.count() > 0 ? started + spec.timeout : Clock::time_point::max();
  std::optional<Clock::time_point> kill_at;      // when SIGKILL goes to the group
  std::optional<Clock::time_point> drain_until;  // set once the child has exited
  bool reaped = false;
  int wstatus = 0;
  std::vector<char> buf(sink != nullptr ? (1 << 20) : 16384);

  while (true) {
    if (!reaped) {
      pid_t w = ::waitpid(pid, &wstatus, WNOHANG);
      if (w == pid) {
        reaped = true;
        drain_until = Clock::now() + kDrainAfterExit;
      }
    }
    const bool pipes_open = out_r.get() >= 0 || err_r.get() >= 0;
    auto now = Clock::now();
    if (reaped && !kill_at && (!pipes_open || now >= *drain_until)) break;

    if (!kill_at && !reaped) {
      bool cancel_now = cancel != nullptr && cancel->stopRequested();
      if (sink_failed || cancel_now || now >= deadline) {
        if (!sink_failed) (cancel_now ? result.cancelled : result.timed_out) = true;
        ::kill(-pid, SIGTERM);
        kill_at = now + spec.kill_grace;
      }
    }
    if (kill_at && now >= *kill_at) {
      // Unconditional: a descendant that ignored SIGTERM may outlive the direct child.
      ::kill(-pid, SIGKILL);
      if (!reaped) {
        while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
        }
        reaped = true;
      }
      break;
    }
    if (reaped && kill_at && !pipes_open) {
      // The child is gone and nothing holds the pipes: skip the rest of the grace period but
      // still make sure nothing of the group survives.
      ::kill(-pid, SIGKILL);
      break;
    }

    // Wait for output, waking up in time for the next deadline and for cancel checks.
    auto wake = now + kPollSlice;
    if (!kill_at && deadline < wake) wake = deadline;
    if (kill_at && *kill_at < wake) wake = *kill_at;
    if (drain_until && *drain_until < wake) wake = *drain_until;
    int wait_ms = static_cast<int>(std::chrono::duration_cast<milliseconds>(wake - now).count());
    if (wait_ms < 0) wait_ms = 0;
    pollfd fds[2];
    int nfds = 0;
    if (out_r.get() >= 0) fds[nfds++] = {out_r.get(), POLLIN, 0};
    if (err_r.get() >= 0) fds[nfds++] = {err_r.get(), POLLIN, 0};
    if (nfds == 0) {
      // Only the exit status is missing; poll with no fds is a plain interruptible wait.
      ::poll(nullptr, 0, wait_ms > 5 ? 5 : wait_ms);
      continue;
    }
    int pr = ::poll(fds, nfds, wait_ms);
    if (pr < 0 && errno != EINTR) break;
    for (int i = 0; i < nfds && pr > 0; ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      bool is_out = fds[i].fd == out_r.get();
      ssize_t got = ::read(fds[i].fd, buf.data(), buf.size());
      if (got > 0) {
        if (is_out && sink != nullptr) {
          *stdout_bytes += static_cast<uint64_t>(got);
          Status st = (*sink)(std::string_view(buf.data(), static_cast<size_t>(got)));
          if (!st.ok()) {
            // Closing our end makes a writing child fail with EPIPE at once; the group is
            // signalled at the top of the loop.
            *sink_status = std::move(st);
            sink_failed = true;
            out_r.reset();
          }
        } else if (is_out) {
          appendTail(result.stdout_tail, result.stdout_truncated, buf.data(), got,
                     spec.max_output_bytes);
        } else {
          appendTail(result.stderr_tail, result.stderr_truncated, buf.data(), got,
                     spec.max_output_bytes);
        }
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        (is_out ? out_r : err_r).reset();
      }
    }
  }

  finishTail(result.stdout_tail, result.stdout_truncated, spec.max_output_bytes);
  finishTail(result.stderr_tail, result.stderr_truncated, spec.max_output_bytes);
  if (WIFEXITED(wstatus)) {
    result.exit_code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    result.term_signal = WTERMSIG(wstatus);
  }
  result.duration = std::chrono::duration_cast<milliseconds>(Clock::now() - started);
  return result;
}

}  // namespace

Result<ProcessResult> runProcess(const ProcessSpec& spec, const StopToken* cancel) {
  return runProcessImpl(spec, cancel, nullptr, nullptr, nullptr);
}

Result<StreamingProcessResult> runProcessStreaming(const ProcessSpec& spec, const OutputSink& sink,
                                                   const StopToken* cancel) {
  if (!sink) return Status::InvalidArgument("streaming process needs a sink");
  StreamingProcessResult out;
  NOA_ASSIGN_OR_RETURN(out.process,
                       runProcessImpl(spec, cancel, &sink, &out.sink_status, &out.stdout_bytes));
  return out;
}

}  // namespace noa
