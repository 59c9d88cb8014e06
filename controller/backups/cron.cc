#include "controller/backups/cron.h"

#include <array>
#include <cctype>
#include <vector>

namespace noa::controller::backups {
namespace {

constexpr int64_t kMsPerMinute = 60'000;
constexpr int64_t kMinutesPerDay = 1440;
// The Gregorian calendar repeats every 400 years (146097 days, a whole number of weeks), so a
// search over that many days has seen every combination of date and weekday there is.
constexpr int64_t kCalendarCycleDays = 146'097;
// 9999-12-31T23:59:59.999Z: schedules are not followed past four-digit years.
constexpr int64_t kLastSupportedMs = 253'402'300'799'999;

constexpr std::array<std::string_view, 12> kMonthNames = {"jan", "feb", "mar", "apr", "may", "jun",
                                                          "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> kWeekdayNames = {"sun", "mon", "tue", "wed",
                                                           "thu", "fri", "sat"};

struct FieldSpec {
  const char* name;
  int min;
  int max;
  const std::string_view* names;  // nullptr: numbers only; else names[i] means min + i
  size_t name_count;
};

constexpr FieldSpec kMinuteField = {"minute", 0, 59, nullptr, 0};
constexpr FieldSpec kHourField = {"hour", 0, 23, nullptr, 0};
constexpr FieldSpec kDayOfMonthField = {"day-of-month", 1, 31, nullptr, 0};
constexpr FieldSpec kMonthField = {"month", 1, 12, kMonthNames.data(), kMonthNames.size()};
// 7 is accepted as Sunday and folded onto bit 0 after parsing.
constexpr FieldSpec kDayOfWeekField = {"day-of-week", 0, 7, kWeekdayNames.data(),
                                       kWeekdayNames.size()};

struct Macro {
  std::string_view name;
  std::string_view expansion;
};
constexpr std::array<Macro, 7> kMacros = {{{"@yearly", "0 0 1 1 *"},
                                           {"@annually", "0 0 1 1 *"},
                                           {"@monthly", "0 0 1 * *"},
                                           {"@weekly", "0 0 * * 0"},
                                           {"@daily", "0 0 * * *"},
                                           {"@midnight", "0 0 * * *"},
                                           {"@hourly", "0 * * * *"}}};

int64_t floorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

struct CivilDate {
  int64_t year;
  unsigned month;  // 1..12
  unsigned day;    // 1..31
};

// Days since 1970-01-01 -> proleptic Gregorian date (H. Hinnant's civil_from_days).
CivilDate civilFromDays(int64_t days) {
  days += 719'468;
  const int64_t era = (days >= 0 ? days : days - 146'096) / 146'097;
  const auto day_of_era = static_cast<unsigned>(days - era * 146'097);
  const unsigned year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36'524 - day_of_era / 146'096) / 365;
  const unsigned day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const unsigned shifted_month = (5 * day_of_year + 2) / 153;  // March = 0
  const unsigned day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
  const unsigned month = shifted_month < 10 ? shifted_month + 3 : shifted_month - 9;
  const int64_t year = static_cast<int64_t>(year_of_era) + era * 400 + (month <= 2 ? 1 : 0);
  return {year, month, day};
}

// 0 = Sunday; 1970-01-01 was a Thursday.
unsigned weekdayFromDays(int64_t days) {
  int64_t weekday = (days + 4) % 7;
  if (weekday < 0) weekday += 7;
  return static_cast<unsigned>(weekday);
}

bool isLeapYear(int64_t year) { return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0); }

unsigned daysInMonth(int64_t year, unsigned month) {
  static constexpr std::array<unsigned, 12> kDays = {31, 28, 31, 30, 31, 30,
                                                     31, 31, 30, 31, 30, 31};
  return month == 2 && isLeapYear(year) ? 29 : kDays[month - 1];
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

class FieldParser {
 public:
  FieldParser(const FieldSpec& spec, std::string_view field) : spec_(spec), field_(field) {}

  // Sets a bit per selected value (bit i = value i).
  Status parse(uint64_t& bits) const {
    bits = 0;
    if (field_.empty()) return error("empty field");
    size_t begin = 0;
    while (begin <= field_.size()) {
      size_t comma = field_.find(',', begin);
      if (comma == std::string_view::npos) comma = field_.size();
      NOA_RETURN_IF_ERROR(parseItem(field_.substr(begin, comma - begin), bits));
      begin = comma + 1;
    }
    return Status::Ok();
  }

 private:
  Status parseItem(std::string_view item, uint64_t& bits) const {
    if (item.empty()) return error("empty list item");
    const size_t slash = item.find('/');
    const std::string_view base = item.substr(0, slash);
    int low = spec_.min;
    int high = spec_.max;
    if (base == "*") {
      // the whole range
    } else if (const size_t dash = base.find('-'); dash != std::string_view::npos) {
      NOA_ASSIGN_OR_RETURN(low, value(base.substr(0, dash)));
      NOA_ASSIGN_OR_RETURN(high, value(base.substr(dash + 1)));
      if (low > high) return error("range '" + std::string(base) + "' is reversed");
    } else {
      NOA_ASSIGN_OR_RETURN(low, value(base));
      // "N/S" means "N-max/S" (cronie, Quartz); a bare "N" is the one value.
      if (slash == std::string_view::npos) high = low;
    }
    int step = 1;
    if (slash != std::string_view::npos) {
      const std::string_view step_text = item.substr(slash + 1);
      const int max_step = spec_.max - spec_.min + 1;
      if (!allDigits(step_text) || step_text.size() > 4) {
        return error("step '" + std::string(step_text) + "' is not a number");
      }
      step = std::stoi(std::string(step_text));
      if (step < 1 || step > max_step) {
        return error("step '" + std::string(step_text) + "' is out of range 1-" +
                     std::to_string(max_step));
      }
    }
    for (int v = low; v <= high; v += step) bits |= uint64_t{1} << v;
    return Status::Ok();
  }

  Result<int> value(std::string_view token) const {
    if (token.empty()) return error("missing value");
    if (spec_.names != nullptr && std::isalpha(static_cast<unsigned char>(token[0]))) {
      const std::string name = lower(token);
      for (size_t i = 0; i < spec_.name_count; ++i) {
        if (spec_.names[i] == name) return spec_.min + static_cast<int>(i);
      }
      return error("unknown " + std::string(spec_.name) + " name '" + std::string(token) + "'");
    }
    if (!allDigits(token)) return error("'" + std::string(token) + "' is not a number");
    // Longer than 4 digits is out of range for every field, and must not overflow stoi.
    const int v = token.size() > 4 ? spec_.max + 1 : std::stoi(std::string(token));
    if (v < spec_.min || v > spec_.max) {
      return error("'" + std::string(token) + "' is out of range " + std::to_string(spec_.min) +
                   "-" + std::to_string(spec_.max));
    }
    return v;
  }

  static bool allDigits(std::string_view text) {
    if (text.empty()) return false;
    for (char c : text) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    }
    return true;
  }

  Status error(const std::string& reason) const {
    return Status::InvalidArgument("bad " + std::string(spec_.name) + " field '" +
                                   std::string(field_) + "': " + reason);
  }

  const FieldSpec& spec_;
  std::string_view field_;
};

std::vector<std::string_view> splitFields(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    const size_t begin = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > begin) out.push_back(text.substr(begin, i - begin));
  }
  return out;
}

}  // namespace

bool CronSchedule::dayMatches(unsigned day_of_month, unsigned day_of_week) const {
  const bool dom = days_of_month_[day_of_month];
  const bool dow = days_of_week_[day_of_week];
  if (day_of_month_star_ || day_of_week_star_) return dom && dow;
  return dom || dow;
}

bool CronSchedule::matches(int64_t unix_ms) const {
  const int64_t minute = floorDiv(unix_ms, kMsPerMinute);
  const int64_t day = floorDiv(minute, kMinutesPerDay);
  const auto minute_of_day = static_cast<int>(minute - day * kMinutesPerDay);
  const CivilDate date = civilFromDays(day);
  return minutes_[minute_of_day % 60] && hours_[minute_of_day / 60] && months_[date.month] &&
         dayMatches(date.day, weekdayFromDays(day));
}

std::optional<int64_t> CronSchedule::next(int64_t after_unix_ms) const {
  if (after_unix_ms >= kLastSupportedMs) return std::nullopt;
  const int64_t first = floorDiv(after_unix_ms, kMsPerMinute) + 1;  // strictly after
  int64_t day = floorDiv(first, kMinutesPerDay);
  auto from_minute = static_cast<int>(first - day * kMinutesPerDay);
  const int64_t last_day = day + kCalendarCycleDays + 31;
  while (day <= last_day) {
    const CivilDate date = civilFromDays(day);
    if (date.year > 9999) return std::nullopt;
    if (!months_[date.month]) {
      day += daysInMonth(date.year, date.month) - date.day + 1;  // the 1st of the next month
      from_minute = 0;
      continue;
    }
    if (dayMatches(date.day, weekdayFromDays(day))) {
      for (int hour = from_minute / 60; hour < 24; ++hour) {
        if (!hours_[hour]) continue;
        const int first_min = hour == from_minute / 60 ? from_minute % 60 : 0;
        for (int minute = first_min; minute < 60; ++minute) {
          if (minutes_[minute]) {
            return ((day * kMinutesPerDay) + hour * 60 + minute) * kMsPerMinute;
          }
        }
      }
    }
    ++day;
    from_minute = 0;
  }
  return std::nullopt;
}

Result<CronSchedule> parseCron(std::string_view text) {
  std::vector<std::string_view> fields = splitFields(text);
  if (fields.empty()) return Status::InvalidArgument("empty schedule");
  CronSchedule schedule;
  schedule.text_ = std::string(text);
  if (fields[0].front() == '@') {
    if (fields.size() != 1) {
      return Status::InvalidArgument("macro '" + std::string(fields[0]) +
                                     "' takes no other fields");
    }
    const std::string name = lower(fields[0]);
    const Macro* found = nullptr;
    for (const Macro& m : kMacros) {
      if (m.name == name) found = &m;
    }
    if (found == nullptr) {
      std::string known;
      for (const Macro& m : kMacros) known += (known.empty() ? "" : ", ") + std::string(m.name);
      return Status::InvalidArgument("unknown macro '" + std::string(fields[0]) +
                                     "' (known: " + known + ")");
    }
    fields = splitFields(found->expansion);
  }
  if (fields.size() != 5) {
    return Status::InvalidArgument(
        "expected 5 fields (minute hour day-of-month month day-of-week) or a macro, got " +
        std::to_string(fields.size()));
  }
  uint64_t minutes = 0, hours = 0, days = 0, months = 0, weekdays = 0;
  NOA_RETURN_IF_ERROR(FieldParser(kMinuteField, fields[0]).parse(minutes));
  NOA_RETURN_IF_ERROR(FieldParser(kHourField, fields[1]).parse(hours));
  NOA_RETURN_IF_ERROR(FieldParser(kDayOfMonthField, fields[2]).parse(days));
  NOA_RETURN_IF_ERROR(FieldParser(kMonthField, fields[3]).parse(months));
  NOA_RETURN_IF_ERROR(FieldParser(kDayOfWeekField, fields[4]).parse(weekdays));
  if (weekdays & (uint64_t{1} << 7)) weekdays = (weekdays | 1) & 0x7f;  // 7 = Sunday
  schedule.minutes_ = std::bitset<60>(minutes);
  schedule.hours_ = std::bitset<24>(hours);
  schedule.days_of_month_ = std::bitset<32>(days);
  schedule.months_ = std::bitset<13>(months);
  schedule.days_of_week_ = std::bitset<7>(weekdays);
  schedule.day_of_month_star_ = fields[2].front() == '*';
  schedule.day_of_week_star_ = fields[4].front() == '*';

  // Say why a schedule never fires when the reason is the days of the month; a leap year's
  // Feb 29 counts as occurring.
  if (schedule.day_of_month_star_ || schedule.day_of_week_star_) {
    bool some_day_occurs = false;
    for (unsigned month = 1; month <= 12 && !some_day_occurs; ++month) {
      if (!schedule.months_[month]) continue;
      const unsigned longest = month == 2 ? 29 : daysInMonth(2001, month);
      for (unsigned d = 1; d <= longest; ++d) some_day_occurs |= schedule.days_of_month_[d];
    }
    if (!some_day_occurs) {
      return Status::InvalidArgument("never fires: day-of-month '" + std::string(fields[2]) +
                                     "' does not occur in month '" + std::string(fields[3]) + "'");
    }
  }
  if (!schedule.next(0)) return Status::InvalidArgument("never fires");
  return schedule;
}

}  // namespace noa::controller::backups
