#pragma once

// noa-agent's process wiring: probes, the controller session, the optional local HTTP listener
// and signal handling. main.cc parses flags and calls runAgent.

#include "agent/runtime/agent_config.h"

namespace noa::agent {

// Exit codes of noa-agent.
inline constexpr int kExitOk = 0;
inline constexpr int kExitBadConfig = 1;
inline constexpr int kExitCannotListen = 3;

// Runs until SIGTERM/SIGINT: the session says bye, every thread is joined. Returns an exit code.
// REQUIRES: log::init was called; no other thread has been started (signals are blocked here
// and inherited by every thread started after).
int runAgent(const AgentConfig& config);

// `noa-agent show-key --state-dir DIR`: prints the key id and public key of the agent's key
// pair (making it when there is none), for enrollment by hand. Returns an exit code.
int runShowKey(int argc, const char* const* argv);

}  // namespace noa::agent
