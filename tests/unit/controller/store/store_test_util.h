#pragma once

// Shared by the store tests: a temporary directory removed at the end, and sample data.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <string>

#include "common/protocol/codec.h"
#include "controller/registry/agent_record.h"

namespace noa::controller::testing {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/noa-store-XXXXXX";
    if (mkdtemp(tmpl) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline protocol::Hello sampleHello(const std::string& id) {
  protocol::Hello h;
  h.agent_id = id;
  h.service = "postgres";
  h.kind = "postgres";
  h.host = "node-a";
  h.agent_version = "0.1.0";
  h.capabilities = {"pg_dump", "promote"};
  h.pid = 4242;
  h.report_interval_ms = 2000;
  return h;
}

inline protocol::Report sampleReport(uint64_t seq) {
  protocol::Report r;
  r.seq = seq;
  r.health.state = "healthy";
  r.health.live = r.health.ready = r.health.started = true;
  r.health.probes = {{"readiness", "readiness", "success", 5, 0, 812, ""},
                     {"liveness", "liveness", "failure", 0, 2, 790, "connection refused"}};
  r.role = "primary";
  r.metrics = {{"cpu_usage_cores", 0.25}, {"memory_bytes", 73400320.0}};
  r.attributes = {{"lsn", "0/3000148"}, {"timeline", "1"}};
  return r;
}

inline AgentRecord sampleRecord(const std::string& id, bool with_report = true) {
  AgentRecord r;
  r.hello = sampleHello(id);
  r.liveness = Liveness::kSuspect;
  r.registered_at_ms = 1790000000000;
  r.session_started_ms = 1790000001000;
  r.last_seen_ms = 1790000005000;
  r.liveness_changed_ms = 1790000004000;
  r.last_seq = 17;
  if (with_report) {
    r.has_report = true;
    r.last_report = sampleReport(17);
    r.last_report_ts_ms = 1790000004900;
  }
  return r;
}

inline std::string reportBytes(const std::string& agent_id, uint64_t seq, int64_t ts_ms) {
  protocol::Envelope env;
  env.id = agent_id + "-" + std::to_string(seq);
  env.ts_ms = ts_ms;
  env.from = agent_id;
  env.body = sampleReport(seq);
  return protocol::encode(env);
}

// File name -> size, to show a refused open changed nothing.
inline std::map<std::string, uintmax_t> listing(const std::string& dir) {
  std::map<std::string, uintmax_t> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    out[e.path().filename().string()] = e.is_regular_file() ? e.file_size() : 0;
  }
  return out;
}

}  // namespace noa::controller::testing
