#include "tests/testing/harness/tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

namespace noa::testing {
namespace {

int connectTo(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

struct Pair {
  int client = -1;
  int server = -1;
};

}  // namespace

Result<std::unique_ptr<TcpProxy>> TcpProxy::start(int target_port) {
  std::unique_ptr<TcpProxy> p(new TcpProxy());
  p->target_port_ = target_port;
  p->listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (p->listen_fd_ < 0) return Status::IoError("proxy socket failed");
  int one = 1;
  ::setsockopt(p->listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(p->listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(p->listen_fd_, 64) != 0) {
    return Status::IoError("proxy bind/listen failed");
  }
  socklen_t len = sizeof(addr);
  ::getsockname(p->listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  p->port_ = ntohs(addr.sin_port);
  p->thread_ = std::thread([raw = p.get()] { raw->run(); });
  return p;
}

TcpProxy::~TcpProxy() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

void TcpProxy::run() {
  std::vector<Pair> pairs;
  auto closePair = [](Pair& p) {
    if (p.client >= 0) ::close(p.client);
    if (p.server >= 0) ::close(p.server);
    p.client = p.server = -1;
  };
  char buf[65536];
  while (!stop_.load()) {
    if (heal_requested_.exchange(false)) {
      for (auto& p : pairs) closePair(p);
      pairs.clear();
    }
    std::vector<pollfd> fds;
    fds.push_back({listen_fd_, POLLIN, 0});
    for (const auto& p : pairs) {
      fds.push_back({p.client, POLLIN, 0});
      fds.push_back({p.server, POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
    if (fds[0].revents & POLLIN) {
      int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client >= 0) {
        int server = connectTo(target_port_);
        if (server < 0) {
          ::close(client);
        } else {
          pairs.push_back({client, server});
        }
      }
    }
    const bool cut = cut_.load();
    for (size_t i = 0; i < pairs.size() && 1 + 2 * i + 1 < fds.size(); ++i) {
      for (int side = 0; side < 2; ++side) {
        const pollfd& pfd = fds[1 + 2 * i + side];
        if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR))) continue;
        const ssize_t n = ::read(pfd.fd, buf, sizeof(buf));
        if (n <= 0) {
          closePair(pairs[i]);
          break;
        }
        if (cut) continue;  // the black hole: read and dropped
        const int to = side == 0 ? pairs[i].server : pairs[i].client;
        ssize_t off = 0;
        while (off < n) {
          const ssize_t w = ::write(to, buf + off, static_cast<size_t>(n - off));
          if (w <= 0) break;
          off += w;
        }
      }
    }
    std::vector<Pair> open;
    for (const auto& p : pairs) {
      if (p.client >= 0) open.push_back(p);
    }
    pairs.swap(open);
  }
  for (auto& p : pairs) closePair(p);
}

}  // namespace noa::testing
