#include "agent/collectors/prom_scraper.h"

#include <httplib.h>

#include <exception>

#include "agent/collectors/prom_text.h"

namespace noa::agent {
namespace {

std::string describeError(httplib::Error error, Millis timeout) {
  const std::string within = " (timeout " + std::to_string(timeout.count()) + " ms)";
  switch (error) {
    case httplib::Error::Connection:
      return "connection failed" + within;
    case httplib::Error::ConnectionTimeout:
      return "connect timed out" + within;
    case httplib::Error::Read:
      return "no complete answer" + within;
    default:
      return httplib::to_string(error);
  }
}

}  // namespace

Result<PromScraper> PromScraper::create(PromScrapeOptions options, const Clock& clock) {
  const std::string& url = options.url;
  const std::size_t scheme_end = url.find("://");
  const std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    return Status::InvalidArgument("prometheus url '" + url +
                                   "' must start with http:// or https://");
  }
  const std::size_t host_start = scheme_end + 3;
  const std::size_t path_start = url.find('/', host_start);
  std::string origin = url.substr(0, path_start);
  std::string path = path_start == std::string::npos ? "/metrics" : url.substr(path_start);
  if (origin.size() <= host_start || origin.find_first_of(" @?#") != std::string::npos) {
    return Status::InvalidArgument("prometheus url '" + url + "' has no valid host");
  }
  if (options.timeout <= Millis(0)) {
    return Status::InvalidArgument("prometheus timeout must be positive");
  }
  if (options.max_body_bytes == 0) {
    return Status::InvalidArgument("prometheus body limit must be positive");
  }
  return PromScraper(std::move(options), std::move(origin), std::move(path), clock);
}

PromScraper::PromScraper(PromScrapeOptions options, std::string origin, std::string path,
                         const Clock& clock)
    : options_(std::move(options)),
      origin_(std::move(origin)),
      path_(std::move(path)),
      display_url_(options_.url.substr(0, options_.url.find('?'))),
      clock_(&clock),
      derived_(options_.selection) {}

Result<std::string> PromScraper::fetch() {
  const MonoTime deadline = clock_->now() + options_.timeout;
  std::string body;
  bool too_big = false;
  bool too_late = false;
  try {
    httplib::Client client(origin_);
    if (!client.is_valid()) return Status::InvalidArgument("unsupported url");
    client.set_connection_timeout(options_.timeout);
    client.set_read_timeout(options_.timeout);
    client.set_write_timeout(options_.timeout);
    client.set_keep_alive(false);
    client.set_follow_location(false);
    const httplib::Headers headers = {{"Accept", "text/plain;version=0.0.4;q=1.0, */*;q=0.1"},
                                      {"User-Agent", std::string("noa-agent/") + NOA_VERSION}};
    // httplib's read timeout is per read, so a body that trickles in is cut off here instead.
    auto receive = [&](const char* data, std::size_t size) {
      if (body.size() + size > options_.max_body_bytes) {
        too_big = true;
        return false;
      }
      if (clock_->now() > deadline) {
        too_late = true;
        return false;
      }
      body.append(data, size);
      return true;
    };
    auto res = client.Get(path_, headers, receive);
    if (too_big) {
      return Status::ResourceExhausted("answer larger than " +
                                       std::to_string(options_.max_body_bytes) + " bytes");
    }
    if (too_late) {
      return Status::DeadlineExceeded("answer not complete within " +
                                      std::to_string(options_.timeout.count()) + " ms");
    }
    if (!res) return Status::Unavailable(describeError(res.error(), options_.timeout));
    if (res->status != 200) return Status::Unavailable("HTTP " + std::to_string(res->status));
  } catch (const std::exception& e) {
    return Status::Internal(e.what());
  }
  return body;
}

SourceReading PromScraper::scrape() {
  SourceReading out;
  ++stats_.scrapes;
  const MonoTime taken_at = clock_->now();
  Result<std::string> body = fetch();
  if (!body.ok()) {
    ++stats_.failures;
    out.note(Status(body.status().code(), display_url_ + ": " + body.status().message()));
    return out;
  }
  const PromParseResult parsed = parsePromText(*body);
  stats_.skipped_lines += parsed.skipped_lines;
  if (parsed.samples.empty() && parsed.skipped_lines > 0) {
    ++stats_.failures;
    out.note(Status::InvalidArgument(display_url_ + ": not Prometheus text (" +
                                     std::to_string(parsed.skipped_lines) +
                                     " malformed lines, first " + parsed.first_error + ")"));
    return out;
  }
  PromMetrics::Derived derived = derived_.derive(parsed.samples, taken_at);
  stats_.dropped_metrics = derived.dropped;
  out.metrics = std::move(derived.metrics);
  if (derived.allowed_samples == 0 && !parsed.samples.empty()) {
    out.note(Status::NotFound(display_url_ + ": serves none of the allowlisted metrics"));
  }
  if (parsed.skipped_lines > 0) {
    out.note(Status::InvalidArgument(display_url_ + ": skipped " +
                                     std::to_string(parsed.skipped_lines) +
                                     " malformed lines, first " + parsed.first_error));
  }
  return out;
}

}  // namespace noa::agent
