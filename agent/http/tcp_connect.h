#pragma once

// A TCP connect bounded by a deadline (non-blocking connect + poll, every resolved address in
// turn), shared by the tcp probe and the agent's HTTP client. Name resolution is not bounded:
// agents reach local services by address or by a name the local resolver answers at once.

#include <chrono>
#include <string>

#include "common/status.h"

namespace noa::agent {

using SteadyDeadline = std::chrono::steady_clock::time_point;

// A connected, non-blocking, close-on-exec socket with TCP_NODELAY, or why not: the message is
// "connect to HOST:PORT: <reason>" (refused, timed out after N ms, cannot resolve).
// DeadlineExceeded when the deadline passed, Unavailable for every other failure.
Result<int> connectTcp(const std::string& host, int port, SteadyDeadline deadline);

}  // namespace noa::agent
