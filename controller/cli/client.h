#pragma once

// noactl's HTTP client for the controller's REST API: one GET per call, bounded by a timeout,
// transport failures turned into a Status that names the URL.

#include <chrono>
#include <string>
#include <string_view>

#include "common/status.h"

namespace noa::cli {

// "http://host:port[/base]" or "https://..."; the port defaults to 80 / 443.
struct ControllerUrl {
  std::string scheme;  // "http" | "https"
  std::string host;    // as written, IPv6 in brackets
  int port = 0;
  std::string base_path;  // "" or "/prefix" without a trailing slash
  std::string text;       // the URL as given, for messages

  std::string origin() const;  // "http://host:port"
};

// InvalidArgument naming what is wrong.
Result<ControllerUrl> parseControllerUrl(std::string_view text);

// Percent-encodes everything except RFC 3986 unreserved characters.
std::string urlEncode(std::string_view text);

struct HttpReply {
  int status = 0;
  std::string body;
  std::string content_type;
};

class ControllerClient {
 public:
  ControllerClient(ControllerUrl url, std::chrono::milliseconds timeout)
      : url_(std::move(url)), timeout_(timeout) {}

  // GET base_path + target (target starts with '/'). Any HTTP status is a reply; Unavailable
  // when the controller cannot be reached or does not answer within the timeout.
  Result<HttpReply> get(const std::string& target) const;

  const ControllerUrl& url() const { return url_; }

 private:
  ControllerUrl url_;
  std::chrono::milliseconds timeout_;
};

}  // namespace noa::cli
