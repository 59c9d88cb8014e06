#include "agent/probes/checks.h"

namespace noa::agent {

CheckOutcome runCheck(const ProbeHandler& handler, std::chrono::milliseconds timeout,
                      const StopToken* cancel) {
  return std::visit(
      [&](const auto& h) -> CheckOutcome {
        using T = std::decay_t<decltype(h)>;
        if constexpr (std::is_same_v<T, HttpGet>) {
          return checkHttp(h, timeout);
        } else if constexpr (std::is_same_v<T, TcpSocket>) {
          return checkTcp(h, timeout);
        } else if constexpr (std::is_same_v<T, Exec>) {
          return checkExec(h, timeout, cancel);
        } else if constexpr (std::is_same_v<T, PostgresCheck>) {
          return checkPostgres(h, timeout);
        } else {
          static_assert(std::is_same_v<T, RedisCheck>);
          return checkRedis(h, timeout);
        }
      },
      handler);
}

}  // namespace noa::agent
