#include "controller/registry/agent_record.h"

namespace noa::controller {

std::string_view livenessName(Liveness liveness) {
  switch (liveness) {
    case Liveness::kAlive: return "alive";
    case Liveness::kSuspect: return "suspect";
    case Liveness::kLost: return "lost";
  }
  return "alive";
}

std::optional<Liveness> parseLiveness(std::string_view name) {
  if (name == "alive") return Liveness::kAlive;
  if (name == "suspect") return Liveness::kSuspect;
  if (name == "lost") return Liveness::kLost;
  return std::nullopt;
}

}  // namespace noa::controller
