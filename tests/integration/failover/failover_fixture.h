#pragma once

// What the failover end-to-end tests share: a real controller (security on) and one real agent
// beside each member of a real PostgreSQL replica set or Redis master with replicas, all on
// loopback; a writer that keeps writing through a libpq multi-host connection string and
// records every acknowledged write; small waits on the REST API.

#include <libpq-fe.h>

#include <atomic>
#include <cstdlib>
#include <optional>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/testing/harness/child_process.h"
#include "tests/testing/harness/noa_cluster.h"
#include "tests/testing/harness/net.h"

namespace noa::testing {

using Clock = std::chrono::steady_clock;

// INSERTs n = 1, 2, ... every `period` through `conninfo` (reconnecting after each failure),
// remembering which were acknowledged and when the first ack after mark() came.
class PgWriter {
 public:
  explicit PgWriter(std::string conninfo, std::chrono::milliseconds period = std::chrono::milliseconds(20))
      : conninfo_(std::move(conninfo)), period_(period) {}
  ~PgWriter() { stop(); }

  void start() {
    thread_ = std::thread([this] { run(); });
  }
  void stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  // From now on, firstAckAfterMark() is the first acknowledged write after this moment by a
  // server other than the one on `old_port` (a write in flight on the old primary does not
  // count as the new primary's first).
  void mark(int old_port = 0) {
    std::lock_guard<std::mutex> lock(mu_);
    mark_ = Clock::now();
    mark_exclude_port_ = old_port;
    first_after_mark_.reset();
  }
  std::optional<Clock::time_point> firstAckAfterMark() const {
    std::lock_guard<std::mutex> lock(mu_);
    return first_after_mark_;
  }
  std::vector<int64_t> acked() const {
    std::lock_guard<std::mutex> lock(mu_);
    return acked_;
  }
  std::optional<Clock::time_point> lastAck() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_ack_;
  }
  size_t ackedCount() const {
    std::lock_guard<std::mutex> lock(mu_);
    return acked_.size();
  }

 private:
  void run() {
    PGconn* conn = nullptr;
    int64_t n = 0;
    while (!stop_.load()) {
      if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
        if (conn != nullptr) PQfinish(conn);
        conn = PQconnectdb(conninfo_.c_str());
        if (PQstatus(conn) != CONNECTION_OK) {
          PQfinish(conn);
          conn = nullptr;
          std::this_thread::sleep_for(period_);
          continue;
        }
      }
      ++n;
      const std::string sql =
          "insert into writes(n) values (" + std::to_string(n) + ") returning inet_server_port()";
      PGresult* res = PQexec(conn, sql.c_str());
      const bool ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
      const int port = ok ? std::atoi(PQgetvalue(res, 0, 0)) : 0;
      PQclear(res);
      if (ok) {
        std::lock_guard<std::mutex> lock(mu_);
        acked_.push_back(n);
        last_ack_ = Clock::now();
        if (mark_ && !first_after_mark_ && *last_ack_ > *mark_ && port != mark_exclude_port_) {
          first_after_mark_ = last_ack_;
        }
      } else {
        PQfinish(conn);
        conn = nullptr;
      }
      std::this_thread::sleep_for(period_);
    }
    if (conn != nullptr) PQfinish(conn);
  }

  const std::string conninfo_;
  const std::chrono::milliseconds period_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<int64_t> acked_;
  std::optional<Clock::time_point> mark_;
  int mark_exclude_port_ = 0;
  std::optional<Clock::time_point> first_after_mark_;
  std::optional<Clock::time_point> last_ack_;
};

// GET /v1/services/{service}/primary's member ("" while there is none).
inline std::string primaryOf(NoaCluster& cluster, const std::string& service) {
  auto body = cluster.getJson("/v1/services/" + service + "/primary");
  if (!body.ok() || !body->contains("member")) return "";
  return (*body)["member"].get<std::string>();
}

inline nlohmann::json failoverState(NoaCluster& cluster, const std::string& service) {
  auto body = cluster.getJson("/v1/services/" + service + "/failover");
  return body.ok() ? *body : nlohmann::json();
}

inline std::vector<nlohmann::json> decisionsOf(NoaCluster& cluster, const std::string& service) {
  auto body = cluster.getJson("/v1/decisions?service=" + service + "&limit=1000");
  std::vector<nlohmann::json> out;
  if (body.ok() && body->contains("decisions")) {
    for (const auto& d : (*body)["decisions"]) out.push_back(d);
  }
  return out;
}

inline bool decided(NoaCluster& cluster, const std::string& service, const std::string& action) {
  for (const auto& d : decisionsOf(cluster, service)) {
    if (d.value("action", "") == action) return true;
  }
  return false;
}

}  // namespace noa::testing
