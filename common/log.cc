#include "common/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>

#include "common/clock.h"

namespace noa::log {
namespace {

struct LoggerState {
  std::mutex mu;
  std::string component = "noa";
  std::shared_ptr<spdlog::logger> logger;
  std::shared_ptr<spdlog::logger> mirror;
};

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};

LoggerState& state() {
  static LoggerState* s = [] {
    auto* st = new LoggerState();  // never destroyed: logging may happen during static teardown
    st->logger = std::make_shared<spdlog::logger>(
        "noa", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    st->logger->set_pattern("%v");
    st->logger->set_level(spdlog::level::trace);
    return st;
  }();
  return *s;
}

std::string_view levelName(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
    case Level::kOff: return "off";
  }
  return "info";
}

}  // namespace

Result<Level> parseLevel(std::string_view text) {
  if (text == "debug" || text == "trace") return Level::kDebug;
  if (text == "info") return Level::kInfo;
  if (text == "warn" || text == "warning") return Level::kWarn;
  if (text == "error") return Level::kError;
  if (text == "off") return Level::kOff;
  return Status::InvalidArgument("unknown log level '" + std::string(text) +
                                 "' (expected debug, info, warn, error or off)");
}

void init(std::string component, Level lvl) {
  auto& s = state();
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.component = std::move(component);
  }
  setLevel(lvl);
}

void setLevel(Level lvl) { g_level.store(static_cast<int>(lvl)); }
Level level() { return static_cast<Level>(g_level.load()); }

void mirrorToFileForTest(const std::string& path) {
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  if (path.empty()) {
    s.mirror.reset();
    return;
  }
  s.mirror = std::make_shared<spdlog::logger>(
      "noa-mirror", std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, false));
  s.mirror->set_pattern("%v");
  s.mirror->flush_on(spdlog::level::trace);
}

void write(Level lvl, std::string_view msg, const Fields& fields) {
  if (!enabled(lvl) || lvl == Level::kOff) return;
  auto& s = state();
  nlohmann::json line = nlohmann::json::object();
  line["ts"] = formatRfc3339(systemClock().wallNow());
  line["level"] = levelName(lvl);
  std::shared_ptr<spdlog::logger> mirror;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    line["component"] = s.component;
    mirror = s.mirror;
  }
  line["msg"] = msg;
  if (fields.is_object()) {
    for (const auto& [key, value] : fields.items()) line[key] = value;
  }
  // Replace invalid UTF-8 rather than throwing: log text may echo peer input.
  const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  s.logger->info(text);
  if (mirror) mirror->info(text);
}

}  // namespace noa::log
