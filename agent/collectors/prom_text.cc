#include "agent/collectors/prom_text.h"

#include <charconv>
#include <map>
#include <system_error>

namespace noa::agent {
namespace {

bool isBlank(char c) { return c == ' ' || c == '\t'; }
bool isNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool isNameChar(char c) { return isNameStart(c) || (c >= '0' && c <= '9'); }
bool isLabelStart(char c) { return isNameStart(c) && c != ':'; }
bool isLabelChar(char c) { return isNameChar(c) && c != ':'; }

bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// A cursor over one line; every parse step either advances past what it read or fails.
class LineReader {
 public:
  explicit LineReader(std::string_view line) : line_(line) {}

  bool atEnd() const { return pos_ >= line_.size(); }
  char peek() const { return atEnd() ? '\0' : line_[pos_]; }
  void skipBlanks() {
    while (!atEnd() && isBlank(line_[pos_])) ++pos_;
  }
  bool consume(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  std::string_view name(bool (*start)(char), bool (*rest)(char)) {
    if (atEnd() || !start(line_[pos_])) return {};
    const std::size_t from = pos_++;
    while (!atEnd() && rest(line_[pos_])) ++pos_;
    return line_.substr(from, pos_ - from);
  }
  // The next run of non-blank characters.
  std::string_view token() {
    const std::size_t from = pos_;
    while (!atEnd() && !isBlank(line_[pos_])) ++pos_;
    return line_.substr(from, pos_ - from);
  }

  // A double-quoted label value. Only \\, \" and \n are escapes in the format; any other
  // backslash pair is kept as written, as Prometheus itself does.
  bool quoted(std::string* out) {
    if (!consume('"')) return false;
    while (!atEnd()) {
      const char c = line_[pos_++];
      if (c == '"') return true;
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (atEnd()) return false;
      const char e = line_[pos_++];
      if (e == 'n') {
        out->push_back('\n');
      } else if (e == '\\' || e == '"') {
        out->push_back(e);
      } else {
        out->push_back('\\');
        out->push_back(e);
      }
    }
    return false;  // unterminated
  }

 private:
  std::string_view line_;
  std::size_t pos_ = 0;
};

// Go's ParseFloat spellings that exporters use: "NaN", "+Inf", "-Inf", plain decimals and
// exponents. from_chars is locale-independent, unlike strtod.
std::optional<double> parseValue(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::string_view digits = s;
  if (digits.front() == '+') {
    digits.remove_prefix(1);
    if (digits.empty() || digits.front() == '-' || digits.front() == '+') return std::nullopt;
  }
  double value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return value;
}

std::optional<int64_t> parseTimestamp(std::string_view s) {
  int64_t ts = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), ts);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return ts;
}

std::optional<PromType> parseType(std::string_view s) {
  if (s == "counter") return PromType::kCounter;
  if (s == "gauge") return PromType::kGauge;
  if (s == "histogram") return PromType::kHistogram;
  if (s == "summary") return PromType::kSummary;
  if (s == "untyped" || s == "unknown") return PromType::kUntyped;
  return std::nullopt;
}

bool suffixFits(PromType type, std::string_view suffix) {
  switch (type) {
    case PromType::kHistogram:
      return suffix == "_bucket" || suffix == "_sum" || suffix == "_count" || suffix == "_created";
    case PromType::kSummary:
      return suffix == "_sum" || suffix == "_count" || suffix == "_created";
    case PromType::kCounter:
      return suffix == "_total" || suffix == "_created";
    default:
      return false;
  }
}

constexpr std::string_view kSuffixes[] = {"_bucket", "_sum", "_count", "_created", "_total"};

using TypeMap = std::map<std::string, PromType, std::less<>>;

void assignFamily(const TypeMap& types, PromSample& sample) {
  if (auto it = types.find(sample.name); it != types.end()) {
    sample.family = sample.name;
    sample.type = it->second;
    return;
  }
  for (std::string_view suffix : kSuffixes) {
    if (!endsWith(sample.name, suffix)) continue;
    const std::string_view base =
        std::string_view(sample.name).substr(0, sample.name.size() - suffix.size());
    auto it = types.find(base);
    if (it != types.end() && suffixFits(it->second, suffix)) {
      sample.family = std::string(base);
      sample.type = it->second;
      return;
    }
  }
  sample.family = sample.name;
  sample.type = PromType::kUntyped;
}

// "# HELP name text" / "# TYPE name type"; any other comment is fine as it is. Returns the
// error of a malformed HELP/TYPE line, or "" when the line is accepted.
std::string parseComment(std::string_view line, TypeMap& types) {
  LineReader r(line);
  r.skipBlanks();
  r.consume('#');
  if (!isBlank(r.peek())) return "";  // "#TYPE" is a plain comment in the format's grammar
  r.skipBlanks();
  const std::string_view keyword = r.token();
  if (keyword != "HELP" && keyword != "TYPE") return "";
  if (!isBlank(r.peek())) return std::string(keyword) + " without a metric name";
  r.skipBlanks();
  const std::string_view name = r.name(isNameStart, isNameChar);
  if (name.empty()) return std::string(keyword) + " without a valid metric name";
  if (!r.atEnd() && !isBlank(r.peek())) return std::string(keyword) + " with an invalid name";
  if (keyword == "HELP") return "";  // the docstring is free text; we do not keep it
  r.skipBlanks();
  const std::string_view type_name = r.token();
  r.skipBlanks();
  const std::optional<PromType> type = parseType(type_name);
  if (!type || !r.atEnd()) return "TYPE of '" + std::string(name) + "' is not a known type";
  if (!types.emplace(std::string(name), *type).second) {
    return "second TYPE line for '" + std::string(name) + "'";
  }
  return "";
}

// metric_name [ "{" label="value" { "," label="value" } [ "," ] "}" ] value [ timestamp ]
std::string parseSample(std::string_view line, PromSample* out) {
  LineReader r(line);
  r.skipBlanks();
  const std::string_view name = r.name(isNameStart, isNameChar);
  if (name.empty()) return "no valid metric name";
  out->name = std::string(name);
  const bool blank_after_name = isBlank(r.peek());
  r.skipBlanks();
  if (r.consume('{')) {
    for (;;) {
      r.skipBlanks();
      if (r.consume('}')) break;
      const std::string_view label = r.name(isLabelStart, isLabelChar);
      if (label.empty()) return "invalid label name";
      r.skipBlanks();
      if (!r.consume('=')) return "label '" + std::string(label) + "' without '='";
      r.skipBlanks();
      std::string value;
      if (!r.quoted(&value)) return "label '" + std::string(label) + "' without a quoted value";
      for (const auto& [existing, unused] : out->labels) {
        if (existing == label) return "label '" + std::string(label) + "' given twice";
      }
      out->labels.emplace_back(std::string(label), std::move(value));
      r.skipBlanks();
      if (r.consume(',')) continue;
      if (r.consume('}')) break;
      return "label set not closed";
    }
    r.skipBlanks();
  } else if (!r.atEnd() && !blank_after_name) {
    return "invalid character in metric name";
  }
  const std::string_view value_text = r.token();
  const std::optional<double> value = parseValue(value_text);
  if (!value) return value_text.empty() ? "no value" : "value is not a number";
  out->value = *value;
  r.skipBlanks();
  if (!r.atEnd()) {
    const std::optional<int64_t> ts = parseTimestamp(r.token());
    if (!ts) return "timestamp is not an integer";
    out->timestamp_ms = *ts;
    r.skipBlanks();
    if (!r.atEnd()) return "trailing text after the timestamp";
  }
  return "";
}

}  // namespace

std::string_view promTypeName(PromType type) {
  switch (type) {
    case PromType::kCounter:
      return "counter";
    case PromType::kGauge:
      return "gauge";
    case PromType::kHistogram:
      return "histogram";
    case PromType::kSummary:
      return "summary";
    case PromType::kUntyped:
      break;
  }
  return "untyped";
}

std::string_view promSeriesSuffix(const PromSample& sample) {
  if (sample.name.size() <= sample.family.size()) return "";
  return std::string_view(sample.name).substr(sample.family.size());
}

PromParseResult parsePromText(std::string_view text) {
  struct Line {
    std::size_t number;
    std::string_view text;
  };
  std::vector<Line> sample_lines;
  TypeMap types;
  PromParseResult result;
  std::size_t first_error_line = 0;
  auto skip = [&](std::size_t line_number, const std::string& why) {
    ++result.skipped_lines;
    if (first_error_line == 0 || line_number < first_error_line) {
      first_error_line = line_number;
      result.first_error = "line " + std::to_string(line_number) + ": " + why;
    }
  };

  // TYPE lines are read before any sample so that a family declared late still types its
  // samples; Prometheus would reject the whole scrape, a report is better off with the numbers.
  std::size_t number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::size_t first = 0;
    while (first < line.size() && isBlank(line[first])) ++first;
    if (first == line.size()) continue;
    if (line[first] == '#') {
      const std::string error = parseComment(line, types);
      if (!error.empty()) skip(number, error);
      continue;
    }
    sample_lines.push_back({number, line});
  }

  result.samples.reserve(sample_lines.size());
  for (const Line& line : sample_lines) {
    PromSample sample;
    const std::string error = parseSample(line.text, &sample);
    if (!error.empty()) {
      skip(line.number, error);
      continue;
    }
    assignFamily(types, sample);
    result.samples.push_back(std::move(sample));
  }
  return result;
}

}  // namespace noa::agent
