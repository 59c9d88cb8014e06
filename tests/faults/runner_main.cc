// noa_fault_trials: runs the fault trials of issue 9 with any trial count and prints the
// tally (trials, passes, worst recovery time, each failure's reason). Exit 0 only when every
// trial passed. See tests/faults/README.md.
//
//   noa_fault_trials --kind controller-kill --trials 20 [--seed N] [--verbose]
//   noa_fault_trials --kind all --trials 5

#include <cstring>
#include <iostream>
#include <string>

#include "tests/faults/trial.h"

using namespace noa::testing::faults;

namespace {

void usage(std::ostream& out) {
  out << "usage: noa_fault_trials --kind KIND|all [--trials N] [--seed N] [--verbose]\n"
         "kinds (partition and disk-full need root):\n";
  for (const auto& k : allKinds()) out << "  " << k.name << "\n      " << k.what << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::string kind;
  TrialOptions options;
  options.binaries = {NOA_CONTROLLER_BIN, NOA_AGENT_BIN, NOA_CTL_BIN};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      usage(std::cout);
      return 0;
    } else if (a == "--kind") {
      kind = value();
    } else if (a == "--trials") {
      options.trials = std::atoi(value().c_str());
    } else if (a == "--seed") {
      options.seed = static_cast<uint32_t>(std::strtoul(value().c_str(), nullptr, 10));
    } else if (a == "--verbose") {
      options.verbose = true;
    } else {
      std::cerr << "unknown argument " << a << "\n";
      usage(std::cerr);
      return 2;
    }
  }
  if (kind.empty() || options.trials < 1) {
    usage(std::cerr);
    return 2;
  }
  bool all_ok = true, known = false;
  for (const auto& k : allKinds()) {
    if (kind != "all" && kind != k.name) continue;
    known = true;
    std::cout << "[ run    ] " << k.name << " x" << options.trials << " (seed " << options.seed
              << ")" << std::endl;
    const auto start = std::chrono::steady_clock::now();
    const TrialTally tally = k.run(options);
    std::cout << tally.summary() << "\n  (" << sinceMs(start) / 1000 << " s)" << std::endl;
    all_ok = all_ok && tally.passed == tally.trials && tally.failures.empty() && tally.trials > 0;
  }
  if (!known) {
    std::cerr << "unknown kind " << kind << "\n";
    usage(std::cerr);
    return 2;
  }
  return all_ok ? 0 : 1;
}
