#pragma once

// One sample of every message type, plus edge cases, shared by the codec tests and the golden
// vectors in schemas/vectors/protocol-v1.json.

#include <string>
#include <utility>
#include <vector>

#include "common/protocol/messages.h"

namespace noa::protocol::testing {

inline Envelope envelope(std::string id, std::string from, Body body) {
  Envelope env;
  env.id = std::move(id);
  env.ts_ms = 1790000000123;
  env.from = std::move(from);
  env.body = std::move(body);
  return env;
}

inline std::vector<std::pair<std::string, Envelope>> sampleMessages() {
  Hello hello{"pg-1", "postgres", "postgres", "node-a", "0.1.0", {"pg_dump", "promote"},
              4242,   1000};
  Welcome welcome{"pg-1", "ctl-1", 1000, 1790000000200};
  Report report;
  report.seq = 17;
  report.health.state = "healthy";
  report.health.live = report.health.ready = report.health.started = true;
  report.health.probes = {{"readiness", "readiness", "success", 5, 0, 812, ""},
                          {"liveness", "liveness", "success", 5, 0, 790, ""}};
  report.role = "primary";
  report.metrics = {
      {"cpu_usage_cores", 0.25}, {"memory_bytes", 73400320.0}, {"requests_per_second", -0.0}};
  report.attributes = {{"lsn", "0/3000148"}, {"timeline", "1"}};
  Report empty_report;
  empty_report.seq = 1;
  Ack ack{"pg-1-18", 17, "", ""};
  Ack hello_required{"pg-1-3", 0, "hello_required", "say hello first"};
  Command command{"cmd-0001",
                  "pg_dump",
                  {{"format", std::string("custom")},
                   {"compress", int64_t{0}},
                   {"verify", true},
                   {"ratio", 0.5},
                   {"note", std::monostate{}},
                   {"offset", int64_t{-3}}},
                  1790000060000};
  Progress progress{"cmd-0001", "dumping", 1048576, 94371840};
  CommandResult result{"cmd-0001",
                       "succeeded",
                       0,
                       "",
                       {{"sha256", std::string("9f86d081884c7d65")}, {"bytes", int64_t{94371840}}},
                       12000};
  CommandResult failed{"cmd-0002", "failed", 1, "pg_dump: connection refused", {}, 31};
  Bye bye{"agent stopping"};
  // Keys added with the command channel (written only when not default).
  Command structured{"cmd-0003",
                     "retention.prune",
                     {{"backup_dir", std::string("/backups")}},
                     1790000060000,
                     R"({"artifacts":["a.dump","b.dump"]})",
                     false};
  Command cancel{"cmd-0003", "retention.prune", {}, 1790000060000, "", true};
  Progress accepted{"cmd-0003", "", 0, 0, kProgressAccepted};
  CommandResult detailed{"cmd-0003", "failed", 1,      "another action holds pg.app",
                         {},         3,        "busy", R"({"holder_pid":4242})"};
  Ack result_ack{"pg-1-9", 0, "", "", "cmd-0003"};
  return {
      {"hello", envelope("pg-1-1", "pg-1", hello)},
      {"welcome", envelope("ctl-1-1", "ctl-1", welcome)},
      {"report", envelope("pg-1-2", "pg-1", report)},
      {"report_minimal", envelope("pg-1-3", "pg-1", empty_report)},
      {"ack", envelope("ctl-1-2", "ctl-1", ack)},
      {"ack_hello_required", envelope("ctl-1-3", "ctl-1", hello_required)},
      {"command", envelope("ctl-1-4", "ctl-1", command)},
      {"progress", envelope("pg-1-4", "pg-1", progress)},
      {"result", envelope("pg-1-5", "pg-1", result)},
      {"result_failed", envelope("pg-1-6", "pg-1", failed)},
      {"bye", envelope("pg-1-7", "pg-1", bye)},
      {"command_structured", envelope("ctl-1-5", "ctl-1", structured)},
      {"command_cancel", envelope("ctl-1-6", "ctl-1", cancel)},
      {"progress_accepted", envelope("pg-1-8", "pg-1", accepted)},
      {"result_detailed", envelope("pg-1-9", "pg-1", detailed)},
      {"ack_result", envelope("ctl-1-7", "ctl-1", result_ack)},
  };
}

}  // namespace noa::protocol::testing
