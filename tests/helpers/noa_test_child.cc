// A child process with scripted behaviour for process and exec-probe tests. Options run in this
// order, whatever order they are given in:
//   --ignore-term          ignore SIGTERM (so only SIGKILL ends it)
//   --grandchild           fork a grandchild that ignores SIGTERM and sleeps 60 s; its pid is
//                          printed on stdout as "grandchild=<pid>\n"
//   --print N              write N bytes to stdout: "0123456789" repeated, ending in "END\n"
//                          when N >= 4
//   --print-stderr N       the same on stderr
//   --print-env NAME       write "NAME=<value>\n" (or "NAME unset\n") to stdout
//   --print-cwd            write the working directory and "\n" to stdout
//   --sleep-ms N           sleep N ms (restarted after signals)
//   --exit K               exit with status K (default 0)

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

namespace {

void writeAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    off += static_cast<size_t>(n);
  }
}

std::string pattern(long n) {
  std::string out;
  if (n <= 0) return out;
  out.reserve(static_cast<size_t>(n));
  for (long i = 0; i < n; ++i) out.push_back(static_cast<char>('0' + i % 10));
  if (n >= 4) out.replace(static_cast<size_t>(n - 4), 4, "END\n");
  return out;
}

void sleepMs(long ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool ignore_term = false, grandchild = false, print_cwd = false;
  long print = 0, print_err = 0, sleep_ms = 0;
  int exit_code = 0;
  const char* env_name = nullptr;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "missing value for %s\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--ignore-term") ignore_term = true;
    else if (a == "--grandchild") grandchild = true;
    else if (a == "--print") print = std::atol(next());
    else if (a == "--print-stderr") print_err = std::atol(next());
    else if (a == "--print-env") env_name = next();
    else if (a == "--print-cwd") print_cwd = true;
    else if (a == "--sleep-ms") sleep_ms = std::atol(next());
    else if (a == "--exit") exit_code = std::atoi(next());
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (ignore_term) ::signal(SIGTERM, SIG_IGN);
  if (grandchild) {
    pid_t pid = ::fork();
    if (pid == 0) {
      ::signal(SIGTERM, SIG_IGN);
      sleepMs(60000);
      ::_exit(0);
    }
    writeAll(STDOUT_FILENO, "grandchild=" + std::to_string(pid) + "\n");
  }
  writeAll(STDOUT_FILENO, pattern(print));
  writeAll(STDERR_FILENO, pattern(print_err));
  if (env_name != nullptr) {
    const char* v = std::getenv(env_name);
    writeAll(STDOUT_FILENO, v ? std::string(env_name) + "=" + v + "\n"
                              : std::string(env_name) + " unset\n");
  }
  if (print_cwd) {
    char buf[4096];
    if (::getcwd(buf, sizeof(buf)) != nullptr) writeAll(STDOUT_FILENO, std::string(buf) + "\n");
  }
  if (sleep_ms > 0) sleepMs(sleep_ms);
  return exit_code;
}
