// noa_ingest_core_bench: the controller's own work per report, without sockets: decode, session
// and registry update, history staging, the ack, and the RocksDB commit of every drain, as
// IngestCore and IngestLoop do it, for N agents sending the load generator's realistic report.
// Prints thread CPU per report and heap allocations (operator new calls) per report. The
// allocation count does not depend on the machine's load at all, so it is the figure to compare
// between two builds; CPU per report is the one to compare within one run. See
// tests/bench/README.md.
#include <prometheus/registry.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <new>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "common/protocol/codec.h"
#include "controller/ingest/ingest_core.h"
#include "tests/bench/ingest_load.h"

namespace {

std::atomic<uint64_t> g_allocations{0};

}  // namespace

// Counting every allocation of this process; the bench runs on one thread.
void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
  return operator new(size, tag);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace noa::bench {
namespace {

namespace fs = std::filesystem;

struct Flags {
  int agents = 1000;
  int rounds = 30;
  size_t drain = 100;  // messages per commit, IngestLoopOptions::max_drain's default
};

bool parseFlags(int argc, char** argv, Flags& flags) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) return false;
    const char* value = argv[++i];
    if (arg == "--agents") {
      flags.agents = std::atoi(value);
    } else if (arg == "--rounds") {
      flags.rounds = std::atoi(value);
    } else if (arg == "--drain") {
      flags.drain = static_cast<size_t>(std::atoi(value));
    } else {
      return false;
    }
  }
  return flags.agents > 0 && flags.rounds > 1 && flags.drain > 0;
}

struct Figures {
  uint64_t reports = 0;
  uint64_t allocations = 0;
  int64_t cpu_ns = 0;
  void print(const char* phase) const {
    std::printf("%-34s %9.2f us/report  %7.1f allocations/report\n", phase,
                static_cast<double>(cpu_ns) / 1e3 / static_cast<double>(reports),
                static_cast<double>(allocations) / static_cast<double>(reports));
  }
};

class Measure {
 public:
  Measure() : allocations_(g_allocations.load()), cpu_ns_(threadCpuNs()) {}
  void addTo(Figures& figures, uint64_t reports) const {
    figures.reports += reports;
    figures.allocations += g_allocations.load() - allocations_;
    figures.cpu_ns += threadCpuNs() - cpu_ns_;
  }

 private:
  uint64_t allocations_;
  int64_t cpu_ns_;
};

// CPU of this process's RocksDB background threads (flushes, compactions) so far.
int64_t rocksdbThreadsCpuNs() {
  const long ticks_per_s = sysconf(_SC_CLK_TCK);
  int64_t total_ticks = 0;
  std::error_code ec;
  for (const auto& task : fs::directory_iterator("/proc/self/task", ec)) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    if (name.rfind("rocksdb", 0) != 0) continue;
    std::ifstream stat_file(task.path() / "stat");
    const std::string stat((std::istreambuf_iterator<char>(stat_file)),
                           std::istreambuf_iterator<char>());
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    for (int n = 3; fields >> field; ++n) {
      if (n == 14 || n == 15) total_ticks += std::stoll(field);
      if (n == 15) break;
    }
  }
  return total_ticks * 1'000'000'000LL / ticks_per_s;
}

// Waits until the background threads have had nothing to do for a second (at most 60 s).
int64_t rocksdbThreadsCpuNsWhenIdle() {
  int64_t last = rocksdbThreadsCpuNs();
  for (int idle = 0, waited = 0; idle < 5 && waited < 300; ++waited) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const int64_t now = rocksdbThreadsCpuNs();
    idle = now == last ? idle + 1 : 0;
    last = now;
  }
  return last;
}

uint64_t directoryBytes(const std::string& path) {
  uint64_t bytes = 0;
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(path, ec)) {
    if (entry.is_regular_file(ec)) bytes += entry.file_size(ec);
  }
  return bytes;
}

// One round: every agent's next report, encoded before the clock starts.
std::vector<std::string> encodeRound(const Flags& flags, uint64_t seq, const Clock& clock) {
  std::vector<std::string> payloads;
  payloads.reserve(static_cast<size_t>(flags.agents));
  for (int a = 0; a < flags.agents; ++a) {
    payloads.push_back(
        protocol::encode(makeReport(agentId(a), seq, toUnixMillis(clock.wallNow()))));
  }
  return payloads;
}

int run(const Flags& flags) {
  char tmpl[] = "/tmp/noa-core-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string dir = tmpl;
  int exit_code = 0;
  {
    auto opened = controller::Store::open(controller::StoreOptions{dir + "/db", true});
    if (!opened.ok()) {
      std::fprintf(stderr, "cannot open the store: %s\n", opened.status().toString().c_str());
      return 1;
    }
    auto store = std::move(opened).value();
    SystemClock clock;
    prometheus::Registry prom;
    controller::ControllerMetrics metrics(prom);
    controller::Registry registry;
    controller::IngestOptions options;
    options.record_checkpoint_every = std::chrono::seconds(5);  // as noa-controller runs
    controller::IngestCore core(registry, clock, metrics, options);

    std::vector<std::string> ids;
    for (int a = 0; a < flags.agents; ++a) ids.push_back(agentId(a));
    controller::Store::Batch batch;
    std::vector<controller::Reply> replies;
    for (const std::string& id : ids) {
      core.handle(id, protocol::encode(makeHello(id)), 0, batch, replies);
    }
    core.flushDirty(batch);
    if (Status committed = store->commit(batch); !committed.ok()) {
      std::fprintf(stderr, "hello commit failed: %s\n", committed.toString().c_str());
      return 1;
    }
    batch = controller::Store::Batch();
    replies.clear();

    const int64_t background_start_ns = rocksdbThreadsCpuNs();
    Figures decode_only, decode_recycled, handled, committed;
    protocol::DecodeScratch recycled;
    for (int round = 1; round <= flags.rounds; ++round) {
      const std::vector<std::string> payloads =
          encodeRound(flags, static_cast<uint64_t>(round), clock);
      const bool warmup = round == 1;  // the registry's first report per agent allocates its slot
      {
        Figures scratch;
        Measure m;
        for (const std::string& payload : payloads) {
          auto decoded = protocol::decode(payload);
          if (!decoded.ok()) {
            std::fprintf(stderr, "decode failed: %s\n", decoded.status().toString().c_str());
            return 1;
          }
        }
        m.addTo(warmup ? scratch : decode_only, payloads.size());
      }
      {
        Figures scratch;
        Measure m;
        for (const std::string& payload : payloads) {
          auto decoded = protocol::decode(payload, {}, &recycled);
          if (decoded.ok())
            recycled.metrics = std::move(std::get<protocol::Report>(decoded->body).metrics);
        }
        m.addTo(warmup ? scratch : decode_recycled, payloads.size());
      }
      Figures handle_round, commit_round;
      for (size_t start = 0; start < payloads.size(); start += flags.drain) {
        const size_t end = std::min(payloads.size(), start + flags.drain);
        {
          Measure m;
          for (size_t i = start; i < end; ++i) {
            core.handle(ids[i], payloads[i], 0, batch, replies);
          }
          m.addTo(handle_round, end - start);
        }
        Measure m;
        core.flushDirty(batch);
        if (Status status = store->commit(batch); !status.ok()) {
          std::fprintf(stderr, "commit failed: %s\n", status.toString().c_str());
          exit_code = 1;
        }
        batch = controller::Store::Batch();
        replies.clear();
        m.addTo(commit_round, end - start);
      }
      if (!warmup) {
        handled.reports += handle_round.reports;
        handled.allocations += handle_round.allocations;
        handled.cpu_ns += handle_round.cpu_ns;
        committed.reports += commit_round.reports;
        committed.allocations += commit_round.allocations;
        committed.cpu_ns += commit_round.cpu_ns;
      }
    }
    std::printf("%d agents, %d rounds measured (1 warm-up), a commit every %zu reports\n",
                flags.agents, flags.rounds - 1, flags.drain);
    decode_only.print("decode alone");
    decode_recycled.print("decode into recycled metrics");
    handled.print("IngestCore::handle (decode incl.)");
    committed.print("flushDirty + commit");
    Figures total = handled;
    total.allocations += committed.allocations;
    total.cpu_ns += committed.cpu_ns;
    total.print("per report, all of it");
    const auto written = static_cast<double>(flags.agents) * flags.rounds;
    const double background_ns =
        static_cast<double>(rocksdbThreadsCpuNsWhenIdle() - background_start_ns);
    std::printf("%-34s %9.2f us/report  (flushes and compactions of %.0f reports, until idle)\n",
                "RocksDB background threads", background_ns / 1e3 / written, written);
    store.reset();
    std::printf("%-34s %9.0f bytes/report (%.1f MB, closed)\n", "store on disk",
                static_cast<double>(directoryBytes(dir)) / written,
                static_cast<double>(directoryBytes(dir)) / 1e6);
  }
  fs::remove_all(dir);
  return exit_code;
}

}  // namespace
}  // namespace noa::bench

int main(int argc, char** argv) {
  noa::bench::Flags flags;
  if (!noa::bench::parseFlags(argc, argv, flags)) {
    std::fprintf(stderr, "usage: noa_ingest_core_bench [--agents N] [--rounds R] [--drain D]\n");
    return 2;
  }
  noa::log::setLevel(noa::log::Level::kWarn);
  return noa::bench::run(flags);
}
