#include <unistd.h>

#include "agent/http/tcp_connect.h"
#include "agent/probes/checks.h"

namespace noa::agent {

CheckOutcome checkTcp(const TcpSocket& tcp, std::chrono::milliseconds timeout) {
  CheckOutcome out;
  Result<int> fd = connectTcp(tcp.host, tcp.port, std::chrono::steady_clock::now() + timeout);
  if (!fd.ok()) {
    out.detail = fd.status().message();
    return out;
  }
  ::close(*fd);
  out.success = true;
  out.detail = "connected to " + tcp.host + ":" + std::to_string(tcp.port);
  return out;
}

}  // namespace noa::agent
