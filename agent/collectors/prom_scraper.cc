#include "agent/collectors/prom_scraper.h"

#include "agent/collectors/prom_text.h"
#include "agent/http/http_client.h"

namespace noa::agent {

Result<PromScraper> PromScraper::create(PromScrapeOptions options, const Clock& clock) {
  Result<HttpUrl> url = parseHttpUrl(options.url);
  if (!url.ok()) return Status::InvalidArgument("prometheus url " + url.status().message());
  if (options.timeout <= Millis(0)) {
    return Status::InvalidArgument("prometheus timeout must be positive");
  }
  if (options.max_body_bytes == 0) {
    return Status::InvalidArgument("prometheus body limit must be positive");
  }
  if (options.url.find('/', options.url.find("://") + 3) == std::string::npos) {
    options.url += "/metrics";
  }
  return PromScraper(std::move(options), clock);
}

PromScraper::PromScraper(PromScrapeOptions options, const Clock& clock)
    : options_(std::move(options)),
      display_url_(options_.url.substr(0, options_.url.find('?'))),
      clock_(&clock),
      derived_(options_.selection) {}

Result<std::string> PromScraper::fetch() {
  const MonoTime deadline = clock_->now() + options_.timeout;
  std::string body;
  bool too_big = false;
  bool too_late = false;
  HttpRequest request;
  request.url = options_.url;
  request.headers = {{"Accept", "text/plain;version=0.0.4;q=1.0, */*;q=0.1"}};
  request.connect_timeout = options_.timeout;
  request.io_timeout = options_.timeout;
  request.total_timeout = options_.timeout;
  HttpHandlers handlers{nullptr, [&](const char* data, std::size_t size) {
                          if (body.size() + size > options_.max_body_bytes) {
                            too_big = true;
                            return false;
                          }
                          // The agent's clock decides too (tests drive it).
                          if (clock_->now() > deadline) {
                            too_late = true;
                            return false;
                          }
                          body.append(data, size);
                          return true;
                        }};
  Result<HttpExchange> exchange = httpExchange(request, handlers);
  if (too_big) {
    return Status::ResourceExhausted("answer larger than " +
                                     std::to_string(options_.max_body_bytes) + " bytes");
  }
  if (too_late) {
    return Status::DeadlineExceeded("answer not complete within " +
                                    std::to_string(options_.timeout.count()) + " ms");
  }
  if (!exchange.ok()) {
    return Status(exchange.status().code(), httpErrorReason(exchange.status()));
  }
  if (exchange->head.status != 200) {
    return Status::Unavailable("HTTP " + std::to_string(exchange->head.status));
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
