#include "controller/cli/client.h"

#include <httplib.h>

#include <cctype>
#include <charconv>

namespace noa::cli {
namespace {

std::string describe(httplib::Error error, std::chrono::milliseconds connect_timeout,
                     std::chrono::milliseconds read_timeout) {
  auto within = [](std::chrono::milliseconds t) {
    return " within " + std::to_string(t.count()) + "ms";
  };
  switch (error) {
    case httplib::Error::Connection:
      return "connection failed";
    case httplib::Error::ConnectionTimeout:
      return "no connection" + within(connect_timeout);
    case httplib::Error::Read:
      return "no answer" + within(read_timeout);
    case httplib::Error::Write:
      return "cannot send the request";
    case httplib::Error::SSLConnection:
      return "TLS handshake failed";
    case httplib::Error::SSLServerVerification:
      return "the controller's certificate does not verify (wrong --ca-file or host name?)";
    case httplib::Error::SSLLoadingCerts:
      return "cannot load the CA file";
    default:
      return httplib::to_string(error);
  }
}

}  // namespace

std::string ControllerUrl::origin() const {
  return scheme + "://" + host + ":" + std::to_string(port);
}

Result<ControllerUrl> parseControllerUrl(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("controller URL '" + std::string(text) + "' " +
                                   std::string(why) + " (expected http://HOST:PORT)");
  };
  ControllerUrl url;
  url.text = std::string(text);
  const size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return bad("has no scheme");
  url.scheme = std::string(text.substr(0, scheme_end));
  if (url.scheme != "http" && url.scheme != "https") return bad("has an unsupported scheme");
  std::string_view rest = text.substr(scheme_end + 3);
  const size_t path_start = rest.find('/');
  std::string_view authority = rest.substr(0, path_start);
  if (path_start != std::string_view::npos) {
    std::string_view path = rest.substr(path_start);
    if (path.find_first_of("?#") != std::string_view::npos) return bad("has a query or fragment");
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    url.base_path = std::string(path);
  }
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("has an unclosed IPv6 address");
    url.host = std::string(authority.substr(0, close + 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("has junk after the host");
      port_text = after.substr(1);
    }
  } else {
    const size_t colon = authority.find(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (url.host.empty() || url.host.find('@') != std::string::npos) return bad("has no valid host");
  url.port = url.scheme == "https" ? 443 : 80;
  if (!port_text.empty() || authority.ends_with(':')) {
    int port = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
        port < 1 || port > 65535) {
      return bad("has no valid port");
    }
    url.port = port;
  }
  return url;
}

std::string urlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    }
  }
  return out;
}

Result<HttpReply> ControllerClient::get(const std::string& target) const {
  return send("GET", target, "", timeout_);
}

Result<HttpReply> ControllerClient::post(const std::string& target,
                                         const std::string& json_body) const {
  return send("POST", target, json_body, timeout_);
}

Result<HttpReply> ControllerClient::longPoll(const std::string& target,
                                             std::chrono::milliseconds wait) const {
  return send("GET", target, "", timeout_ + wait);
}

Result<HttpReply> ControllerClient::send(const std::string& method, const std::string& target,
                                         const std::string& body,
                                         std::chrono::milliseconds read_timeout) const {
  httplib::Client client(url_.origin());
  if (!client.is_valid()) return Status::InvalidArgument("cannot use controller URL " + url_.text);
  client.set_connection_timeout(timeout_);
  client.set_read_timeout(read_timeout);
  client.set_write_timeout(timeout_);
  if (url_.scheme == "https") {
    client.enable_server_certificate_verification(true);
    if (!credentials_.ca_file.empty()) client.set_ca_cert_path(credentials_.ca_file.c_str());
  }
  httplib::Headers headers;
  if (!credentials_.bearer_token.empty()) {
    headers.emplace("Authorization", "Bearer " + credentials_.bearer_token);
  }
  const std::string path = url_.base_path + target;
  auto res = method == "POST" ? client.Post(path.c_str(), headers, body, "application/json")
                              : client.Get(path.c_str(), headers);
  if (!res) {
    return Status::Unavailable("cannot reach the controller at " + url_.text + " (" +
                               describe(res.error(), timeout_, read_timeout) + ")");
  }
  return HttpReply{res->status, res->body, res->get_header_value("Content-Type")};
}

}  // namespace noa::cli
