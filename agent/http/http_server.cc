#include "agent/http/http_server.h"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <cerrno>
#include <cstring>

#include "agent/http/deadline_socket.h"

namespace noa::agent {
namespace {

namespace http = boost::beast::http;

constexpr char kBusyAnswer[] =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

Result<int> listenOn(const std::string& host, int port) {
  const std::string where = host + ":" + std::to_string(port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* addrs = nullptr;
  const int gai = ::getaddrinfo(host.empty() ? nullptr : host.c_str(),
                                std::to_string(port).c_str(), &hints, &addrs);
  if (gai != 0) {
    return Status::InvalidArgument("cannot listen on " + where + ": " + ::gai_strerror(gai));
  }
  int err = EADDRNOTAVAIL;
  int fd = -1;
  for (const addrinfo* ai = addrs; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd, 64) != 0) {
      err = errno;
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(addrs);
  if (fd < 0) return Status::Unavailable("cannot listen on " + where + ": " + std::strerror(err));
  return fd;
}

int boundPort(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
}

}  // namespace

HttpServer::HttpServer(HttpRoutes routes, HttpServerLimits limits)
    : routes_(std::move(routes)), limits_(limits) {}

HttpServer::~HttpServer() { stop(); }

Status HttpServer::start(const std::string& host, int port) {
  if (listen_fd_ >= 0) return Status::FailedPrecondition("http server already started");
  NOA_ASSIGN_OR_RETURN(listen_fd_, listenOn(host, port));
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) {
    const int err = errno;
    ::close(listen_fd_);
    listen_fd_ = -1;
    return Status::Internal(std::string("eventfd: ") + std::strerror(err));
  }
  port_ = boundPort(listen_fd_);
  acceptor_ = std::thread([this] { acceptLoop(); });
  return Status::Ok();
}

void HttpServer::stop() {
  if (!acceptor_.joinable()) return;
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof(one));
  acceptor_.join();
  std::unique_lock<std::mutex> lock(mu_);
  idle_.wait(lock, [this] { return active_ == 0; });
  ::close(listen_fd_);
  ::close(wake_fd_);
  listen_fd_ = wake_fd_ = -1;
}

void HttpServer::acceptLoop() {
  while (true) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;  // the client gave up, or out of descriptors for a moment
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (active_ >= limits_.max_connections) {
        [[maybe_unused]] ssize_t n =
            ::send(fd, kBusyAnswer, sizeof(kBusyAnswer) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        ::close(fd);
        continue;
      }
      ++active_;
    }
    std::thread([this, fd] {
      serve(fd);
      std::lock_guard<std::mutex> lock(mu_);
      --active_;
      idle_.notify_all();
    }).detach();
  }
}

HttpReply HttpServer::answer(const std::string& method, const std::string& target) {
  if (method != "GET" && method != "HEAD") return {405, "text/plain", "only GET and HEAD\n"};
  const auto route = routes_.find(target.substr(0, target.find('?')));
  if (route == routes_.end()) return {404, "text/plain", "not found\n"};
  return route->second();
}

void HttpServer::serve(int fd) {
  DeadlineSocket socket(fd);
  socket.setLimits(std::chrono::steady_clock::now() + limits_.io_timeout, limits_.io_timeout);
  boost::beast::flat_buffer buffer;
  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
  parser.body_limit(limits_.max_body_bytes);
  boost::system::error_code ec;
  http::read(socket, buffer, parser, ec);
  HttpReply reply;
  bool head_only = false;
  if (ec == http::error::header_limit) {
    reply = {431, "text/plain", "request header too large\n"};
  } else if (ec == http::error::body_limit) {
    reply = {413, "text/plain", "request body too large\n"};
  } else if (ec) {
    return;  // a TCP probe of the port, a closed or garbled request: nothing to answer
  } else {
    const auto& request = parser.get();
    head_only = request.method() == http::verb::head;
    reply = answer(std::string(request.method_string()), std::string(request.target()));
  }
  http::response<http::string_body> response{static_cast<http::status>(reply.status), 11};
  response.set(http::field::server, "noa-agent");
  response.set(http::field::connection, "close");
  response.set(http::field::content_type, reply.content_type);
  if (reply.status == 405) response.set(http::field::allow, "GET, HEAD");
  response.body() = std::move(reply.body);
  response.prepare_payload();
  if (head_only) {
    const auto length = response.body().size();
    response.body().clear();
    response.content_length(length);
  }
  http::write(socket, response, ec);
  socket.shutdownSend();
}

}  // namespace noa::agent
