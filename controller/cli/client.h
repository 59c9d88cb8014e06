#pragma once

// noactl's HTTP client for the controller's REST API: one GET or POST per call, bounded by a
// timeout, transport failures turned into a Status that names the URL. Sends the bearer token
// when it has one; https URLs verify the controller's certificate and host name against
// `ca_file` (or the system's CAs when empty).

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

struct ClientCredentials {
  std::string bearer_token;  // "" = send no Authorization header
  std::string ca_file;       // PEM CA bundle for https; "" = the system's
};

class ControllerClient {
 public:
  ControllerClient(ControllerUrl url, std::chrono::milliseconds timeout,
                   ClientCredentials credentials = {})
      : url_(std::move(url)), timeout_(timeout), credentials_(std::move(credentials)) {}

  // GET base_path + target (target starts with '/'). Any HTTP status is a reply; Unavailable
  // when the controller cannot be reached, does not answer within the timeout or its
  // certificate does not verify.
  Result<HttpReply> get(const std::string& target) const;
  // POST with a JSON body ("" sends no body), otherwise as get().
  Result<HttpReply> post(const std::string& target, const std::string& json_body) const;
  // A GET the server may hold for up to `wait` (a long-poll): read timeout = timeout + wait.
  Result<HttpReply> longPoll(const std::string& target, std::chrono::milliseconds wait) const;

  const ControllerUrl& url() const { return url_; }

 private:
  Result<HttpReply> send(const std::string& method, const std::string& target,
                         const std::string& body, std::chrono::milliseconds read_timeout) const;

  ControllerUrl url_;
  std::chrono::milliseconds timeout_;
  ClientCredentials credentials_;
};

}  // namespace noa::cli
