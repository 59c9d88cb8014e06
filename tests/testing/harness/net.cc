#include "tests/testing/harness/net.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <thread>
#include <utility>

namespace noa::testing {

namespace {

// The kernel's range for outgoing connections' source ports (and bind to port 0).
std::pair<int, int> ephemeralRange() {
  int low = 32768, high = 60999;
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  in >> low >> high;
  return {low, high};
}

bool bindable(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

}  // namespace

int freePort() {
  // Below the ephemeral range: a port the kernel handed out by bind(0) could be taken as the
  // source port of any test's outgoing connection before the server binds it (seen in CI:
  // "cannot listen for REST on 127.0.0.1:50127"). Random, so parallel tests rarely pick alike.
  static std::mt19937 random(std::random_device{}() ^ static_cast<unsigned>(getpid()));
  const auto [ephemeral_low, ephemeral_high] = ephemeralRange();
  const int low = 20000;
  const int high = std::max(low + 1000, ephemeral_low - 1);
  std::uniform_int_distribution<int> pick(low, high);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int port = pick(random);
    if (port >= ephemeral_low && port <= ephemeral_high) continue;
    if (bindable(port)) return port;
  }
  // A crowded machine: fall back to what the kernel picks.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
               std::chrono::milliseconds poll) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(poll);
  }
}

Result<HttpResponse> httpGet(int port, const std::string& path, const std::string& bearer_token) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(std::chrono::seconds(2));
  client.set_read_timeout(std::chrono::seconds(5));
  httplib::Headers headers;
  if (!bearer_token.empty()) headers.emplace("Authorization", "Bearer " + bearer_token);
  auto res = client.Get(path.c_str(), headers);
  if (!res) return Status::Unavailable("GET " + path + ": " + httplib::to_string(res.error()));
  return HttpResponse{res->status, res->body, res->get_header_value("Content-Type")};
}

Result<HttpResponse> httpPost(int port, const std::string& path, const std::string& json_body,
                              const std::string& bearer_token) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(std::chrono::seconds(2));
  client.set_read_timeout(std::chrono::seconds(10));
  httplib::Headers headers;
  if (!bearer_token.empty()) headers.emplace("Authorization", "Bearer " + bearer_token);
  auto res = client.Post(path.c_str(), headers, json_body, "application/json");
  if (!res) return Status::Unavailable("POST " + path + ": " + httplib::to_string(res.error()));
  return HttpResponse{res->status, res->body, res->get_header_value("Content-Type")};
}

Result<nlohmann::json> httpGetJson(int port, const std::string& path,
                                   const std::string& bearer_token) {
  NOA_ASSIGN_OR_RETURN(HttpResponse res, httpGet(port, path, bearer_token));
  auto parsed = nlohmann::json::parse(res.body, nullptr, false);
  if (parsed.is_discarded()) return Status::InvalidArgument("not JSON: " + res.body);
  return parsed;
}

Result<std::string> sendRaw(int port, const std::string& bytes, std::chrono::milliseconds timeout) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return Status::Unavailable("connect failed");
  }
  (void)!write(fd, bytes.data(), bytes.size());
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

}  // namespace noa::testing
