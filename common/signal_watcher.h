#pragma once

// Turns SIGINT and SIGTERM into a stop request, on a thread of its own, so no work ever runs
// inside a signal handler. Call startSignalWatcher() before starting any other thread: it blocks
// both signals in the calling thread, and threads started later inherit the mask.

#include <thread>

#include "common/stop_token.h"

namespace noa {

// The returned thread ends within ~200 ms of `stop` being requested (by a signal or otherwise);
// join it before `stop` goes away.
std::thread startSignalWatcher(StopToken& stop);

}  // namespace noa
