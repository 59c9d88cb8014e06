#include "controller/api/time_param.h"

#include <charconv>
#include <chrono>
#include <string>

namespace noa::controller::api {
namespace {

// Reads exactly `width` digits at `pos`.
bool readDigits(std::string_view text, size_t& pos, size_t width, int& out) {
  if (pos + width > text.size()) return false;
  int value = 0;
  for (size_t i = 0; i < width; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  pos += width;
  out = value;
  return true;
}

bool expect(std::string_view text, size_t& pos, std::string_view chars) {
  if (pos >= text.size() || chars.find(text[pos]) == std::string_view::npos) return false;
  ++pos;
  return true;
}

Status notRfc3339(std::string_view text) {
  return Status::InvalidArgument("'" + std::string(text) +
                                 "' is not an RFC 3339 timestamp (e.g. 2026-05-01T10:00:00Z)");
}

}  // namespace

Result<int64_t> parseRfc3339(std::string_view text) {
  size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  const bool shape = readDigits(text, pos, 4, year) && expect(text, pos, "-") &&
                     readDigits(text, pos, 2, month) && expect(text, pos, "-") &&
                     readDigits(text, pos, 2, day) && expect(text, pos, "Tt ") &&
                     readDigits(text, pos, 2, hour) && expect(text, pos, ":") &&
                     readDigits(text, pos, 2, minute) && expect(text, pos, ":") &&
                     readDigits(text, pos, 2, second);
  if (!shape) return notRfc3339(text);
  int millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const size_t start = pos;
    int scale = 100;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      millis += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return notRfc3339(text);
  }
  int offset_minutes = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int off_h = 0, off_m = 0;
    if (!readDigits(text, pos, 2, off_h) || !expect(text, pos, ":") ||
        !readDigits(text, pos, 2, off_m) || off_h > 23 || off_m > 59) {
      return notRfc3339(text);
    }
    offset_minutes = sign * (off_h * 60 + off_m);
  } else {
    return notRfc3339(text);
  }
  if (pos != text.size()) return notRfc3339(text);

  using namespace std::chrono;
  const year_month_day date{std::chrono::year(year),
                            std::chrono::month(static_cast<unsigned>(month)),
                            std::chrono::day(static_cast<unsigned>(day))};
  // Second 60 is a leap second; we count it as the last millisecond of second 59.
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) {
    return Status::InvalidArgument("'" + std::string(text) + "' is not a valid date and time");
  }
  if (second == 60) {
    second = 59;
    millis = 999;
  }
  const auto tp = sys_days(date) + hours(hour) + minutes(minute) + seconds(second) +
                  milliseconds(millis) - minutes(offset_minutes);
  return static_cast<int64_t>(duration_cast<milliseconds>(tp.time_since_epoch()).count());
}

Result<int64_t> parseTimestamp(std::string_view text) {
  if (text.empty()) return Status::InvalidArgument("empty timestamp");
  if (text.find_first_not_of("0123456789") == std::string_view::npos) {
    int64_t ms = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (ec != std::errc() || end != text.data() + text.size()) {
      return Status::InvalidArgument("'" + std::string(text) + "' is out of range");
    }
    return ms;
  }
  return parseRfc3339(text);
}

}  // namespace noa::controller::api
