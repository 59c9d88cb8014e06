#pragma once

// The allowlist file (--allowlist-file): agent keys enrolled by configuration rather than by
// `noactl keys accept`. One entry per line, `AGENT_ID Z85_PUBLIC_KEY`; blank lines and lines
// starting with '#' are ignored. A bad line is an error naming FILE:LINE.
//
// Removing a line does not revoke its key (the acceptance is stored); `noactl keys revoke`
// does. Not thread-safe; the KeyRegistry serialises access.

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace noa::controller {

// [A-Za-z0-9._-]{1,64}, the protocol's agent id.
bool isValidAgentId(std::string_view id);

struct AllowlistEntry {
  std::string agent_id;
  std::string public_key;  // Z85
  std::string key_id;
  int line = 0;
};

// Parses the file's text; `file_name` only names errors. The same agent id or key twice is an
// error (one of the lines is surely a mistake).
Result<std::vector<AllowlistEntry>> parseAllowlist(std::string_view text,
                                                   const std::string& file_name);

class AllowlistFile {
 public:
  explicit AllowlistFile(std::string path) : path_(std::move(path)) {}

  // The entries when the file changed (mtime or size) since the last successful read, nullopt
  // when it did not. A missing file is NotFound; a bad line InvalidArgument (FILE:LINE).
  Result<std::optional<std::vector<AllowlistEntry>>> readIfChanged();

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool read_once_ = false;
  int64_t mtime_ns_ = 0;
  off_t size_ = 0;
};

}  // namespace noa::controller
