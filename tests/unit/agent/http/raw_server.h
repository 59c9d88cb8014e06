#pragma once

// A loopback listener that answers each connection with canned bytes (or nothing), so the
// client meets what real servers rarely send on purpose.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace noa::agent::testing {

class RawServer {
 public:
  // `answers[i]` goes to the i-th connection (the last one repeats); "" = accept, read, stay
  // silent until the server is destroyed.
  explicit RawServer(std::vector<std::string> answers) : answers_(std::move(answers)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(fd_, 16);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~RawServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    for (int c : open_) ::close(c);
    ::close(fd_);
  }
  int port() const { return port_; }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int connections() const { return connections_; }

 private:
  void run() {
    while (!stop_) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      const std::string& answer =
          answers_[std::min<std::size_t>(connections_, answers_.size() - 1)];
      ++connections_;
      char buf[4096];
      [[maybe_unused]] ssize_t n = ::recv(c, buf, sizeof(buf), 0);
      if (answer.empty()) {
        open_.push_back(c);
        continue;
      }
      [[maybe_unused]] ssize_t w = ::send(c, answer.data(), answer.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }

  std::vector<std::string> answers_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::vector<int> open_;
};

}  // namespace noa::agent::testing
