#pragma once

// runProcess() for tools whose stdout IS the product (pg_dump to stdout, a downloader): the
// output goes chunk by chunk to a sink instead of a bounded tail, so gigabytes can pass through
// without buffering. Same guarantees as runProcess(): own process group, deadline, cancel, no
// zombie; stderr is still kept as a tail for error messages.

#include <functional>
#include <string_view>

#include "common/process/process.h"
#include "common/status.h"
#include "common/stop_token.h"

namespace noa {

// Receives each chunk of the child's stdout, in order, on the calling thread. A non-OK return
// stops the child (its group gets SIGTERM, then SIGKILL after kill_grace) and no further chunk
// is delivered.
using OutputSink = std::function<Status(std::string_view chunk)>;

struct StreamingProcessResult {
  ProcessResult process;  // stdout_tail stays empty: stdout went to the sink
  Status sink_status;     // the sink's first error, OK when it accepted everything
  uint64_t stdout_bytes = 0;
};

// Errors as runProcess(): only when the child could not be started.
Result<StreamingProcessResult> runProcessStreaming(const ProcessSpec& spec, const OutputSink& sink,
                                                   const StopToken* cancel = nullptr);

}  // namespace noa
