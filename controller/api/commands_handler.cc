#include "controller/api/commands_handler.h"

#include <optional>
#include <string>

#include "common/duration.h"
#include "controller/api/long_poll_slots.h"
#include "controller/api/problem.h"
#include "controller/api/query_params.h"
#include "controller/api/request_body.h"
#include "controller/commands/command_book.h"

namespace noa::controller::api {
namespace {

using commands::CommandBook;
using commands::CommandRecord;
using nlohmann::json;

// An operator expects a backup to run long, but a command must never sit forever: without a
// timeout or deadline it gets an hour.
constexpr Millis kDefaultCommandTimeout{60 * 60 * 1000};
// Beyond this a deadline is a typo (ms for s), not a plan.
constexpr Millis kMaxCommandTimeout{7LL * 24 * 60 * 60 * 1000};
// A waiting GET holds a server thread; clients ask again rather than wait longer.
constexpr Millis kMaxWait{60'000};
constexpr size_t kDefaultListLimit = 100;
constexpr size_t kMaxListLimit = 1000;

constexpr const char* kStateNames =
    "pending, sent, acked, running, succeeded, failed, timed_out or cancelled";

ApiResponse channelOff() { return problem(503, "the command channel is not available"); }

ApiResponse unknownCommand(const std::string& id) {
  return problem(404, "no command '" + id + "'");
}

struct CreateBody {
  std::string action;
  commands::TargetSpec target;
  json params = json::object();
  std::optional<std::string> timeout;
  std::optional<int64_t> deadline_ms;
  bool all = false;  // fan-out: every live agent of the service (and role)
};

// Reads the body of POST /v1/commands; nullopt when it is well formed, else the 400 naming the
// member to blame. Strict: an unknown member is refused, since silently ignoring a misspelt
// "deadline" would run the command with the default one.
std::optional<ApiResponse> parseCreateBody(const std::string& text, CreateBody& out) {
  json body;
  if (auto bad = parseBodyObject(
          text, R"({"action": "backup.pg_dump", "service": "postgres", "role": "primary"})",
          /*empty_is_object=*/false, body)) {
    return bad;
  }
  for (const auto& [name, value] : body.items()) {
    if (name == "action") {
      if (auto bad = readString(name, value, out.action)) return bad;
    } else if (name == "agent_id") {
      if (auto bad = readString(name, value, out.target.agent_id)) return bad;
    } else if (name == "service") {
      if (auto bad = readString(name, value, out.target.service)) return bad;
    } else if (name == "role") {
      if (auto bad = readString(name, value, out.target.role)) return bad;
    } else if (name == "all") {
      if (auto bad = readBool(name, value, out.all)) return bad;
    } else if (name == "params") {
      if (!value.is_object()) return badField(name, "params must be a JSON object");
      out.params = value;
    } else if (name == "timeout") {
      std::string timeout;
      if (auto bad = readString(name, value, timeout)) return bad;
      out.timeout = timeout;
    } else if (name == "deadline_ms") {
      if (!value.is_number_integer()) {
        return badField(name, "deadline_ms must be an integer (unix milliseconds)");
      }
      out.deadline_ms = value.get<int64_t>();
    } else {
      return unknownField(name,
                          "action, agent_id, service, role, all, params, timeout, deadline_ms");
    }
  }
  if (out.action.empty()) return badField("action", "action is required, e.g. backup.pg_dump");
  if (out.target.agent_id.empty() && out.target.service.empty()) {
    return badField("agent_id", "a command needs a target: agent_id, or service (and role)");
  }
  if (!out.target.agent_id.empty() && !out.target.service.empty()) {
    return badField("service", "give agent_id or service, not both");
  }
  if (out.all && out.target.service.empty()) {
    return badField("all", "all needs a service: every live agent of it (and of role) runs it");
  }
  if (out.timeout && out.deadline_ms) {
    return badField("deadline_ms", "give timeout or deadline_ms, not both");
  }
  return std::nullopt;
}

// The command's deadline in unix ms from timeout / deadline_ms (default: an hour from now).
Result<int64_t> deadlineOf(const CreateBody& body, int64_t now_ms, std::string& field) {
  if (body.deadline_ms) {
    field = "deadline_ms";
    if (*body.deadline_ms <= now_ms) {
      return Status::InvalidArgument("deadline_ms has already passed");
    }
    if (*body.deadline_ms - now_ms > kMaxCommandTimeout.count()) {
      return Status::InvalidArgument("deadline_ms is more than " +
                                     formatDuration(kMaxCommandTimeout) + " away");
    }
    return *body.deadline_ms;
  }
  field = "timeout";
  Millis timeout = kDefaultCommandTimeout;
  if (body.timeout) {
    NOA_ASSIGN_OR_RETURN(timeout, parseDuration(*body.timeout));
    if (timeout.count() <= 0 || timeout > kMaxCommandTimeout) {
      return Status::InvalidArgument("timeout must be more than 0 and at most " +
                                     formatDuration(kMaxCommandTimeout) + ", not '" +
                                     *body.timeout + "'");
    }
  }
  return now_ms + timeout.count();
}

// Holds a long-poll slot for one request (no slots configured: always granted).
class WaitSlot {
 public:
  explicit WaitSlot(LongPollSlots* slots)
      : slots_(slots), granted_(slots == nullptr || slots->tryAcquire()) {}
  ~WaitSlot() {
    if (slots_ != nullptr && granted_) slots_->release();
  }
  WaitSlot(const WaitSlot&) = delete;
  WaitSlot& operator=(const WaitSlot&) = delete;
  bool granted() const { return granted_; }

 private:
  LongPollSlots* slots_;
  bool granted_;
};

// POST /v1/commands with "all": true: one command per live agent of the service (and role),
// stored in one synced commit. The answer lists ids, not whole records: a fan-out to
// thousands of agents should not answer with megabytes.
ApiResponse createFanOut(const ApiContext& context, const ApiRequest& request, CreateBody body,
                         int64_t deadline_ms) {
  Result<std::vector<commands::ResolvedTarget>> targets =
      commands::resolveAllTargets(context.state.agents(), body.target, body.action);
  if (!targets.ok()) return commandRefusal(targets.status());
  std::vector<commands::NewCommand> requests;
  requests.reserve(targets->size());
  for (const commands::ResolvedTarget& target : *targets) {
    commands::NewCommand command;
    command.target = target;
    command.action = body.action;
    command.params = body.params;
    command.deadline_ms = deadline_ms;
    command.created_by = actorOf(request);
    requests.push_back(std::move(command));
  }
  Result<std::vector<CommandRecord>> created = context.state.commands()->createMany(requests);
  if (!created.ok()) return problemFromStatus(created.status());
  json list = json::array();
  for (const CommandRecord& record : *created) {
    list.push_back({{"id", record.id}, {"agent_id", record.agent_id}});
  }
  return jsonResponse(201, {{"count", created->size()}, {"commands", std::move(list)}});
}

}  // namespace

ApiResponse handleCreateCommand(const ApiContext& context, const ApiRequest& request) {
  CommandBook* book = context.state.commands();
  if (book == nullptr) return channelOff();
  CreateBody body;
  if (auto bad = parseCreateBody(request.body, body)) return *bad;
  std::string deadline_field;
  Result<int64_t> deadline =
      deadlineOf(body, toUnixMillis(context.clock.wallNow()), deadline_field);
  if (!deadline.ok()) return badField(deadline_field, deadline.status().message());

  if (body.all) return createFanOut(context, request, std::move(body), *deadline);

  Result<commands::ResolvedTarget> target =
      commands::resolveTarget(context.state.agents(), body.target, body.action);
  if (!target.ok()) return commandRefusal(target.status());

  commands::NewCommand command;
  command.target = *target;
  command.action = body.action;
  command.params = std::move(body.params);
  command.deadline_ms = *deadline;
  command.created_by = actorOf(request);
  Result<CommandRecord> created = book->create(command);
  if (!created.ok()) return problemFromStatus(created.status());
  ApiResponse res = jsonResponse(201, commands::commandToJson(*created));
  res.headers.emplace_back("Location", "/v1/commands/" + created->id);
  return res;
}

ApiResponse handleListCommands(const ApiContext& context, const ApiRequest& request) {
  CommandBook* book = context.state.commands();
  if (book == nullptr) return channelOff();
  commands::CommandFilter filter;
  if (auto text = request.queryParam("state"); text && !text->empty()) {
    filter.state = commands::parseCommandState(*text);
    if (!filter.state) {
      return badParameter("state",
                          std::string("state must be ") + kStateNames + ", not '" + *text + "'");
    }
  }
  filter.service = request.queryParam("service").value_or("");
  filter.agent_id = request.queryParam("agent").value_or("");
  Result<size_t> limit = parseLimit(request.queryParam("limit"), kDefaultListLimit, kMaxListLimit);
  if (!limit.ok()) return badParameter("limit", limit.status().message());
  filter.limit = *limit;

  json out = json::array();
  for (const CommandRecord& record : book->list(filter)) {
    out.push_back(commands::commandToJson(record));
  }
  return jsonResponse(200, {{"commands", std::move(out)}});
}

ApiResponse handleGetCommand(const ApiContext& context, const ApiRequest& request) {
  CommandBook* book = context.state.commands();
  if (book == nullptr) return channelOff();
  const std::string& id = request.path_params.at("id");
  Millis wait{0};
  if (auto text = request.queryParam("wait"); text && !text->empty()) {
    Result<Millis> parsed = parseDuration(*text);
    if (!parsed.ok() || *parsed > kMaxWait) {
      return badParameter("wait", "wait must be a duration from 0s to " + formatDuration(kMaxWait) +
                                      ", such as 5s, not '" + *text + "'");
    }
    wait = *parsed;
  }
  std::optional<CommandRecord> record;
  if (wait.count() > 0) {
    // Without a free slot (or while the server stops) this answers at once, as without wait=.
    WaitSlot slot(context.long_polls);
    if (slot.granted()) {
      const std::atomic<bool>* stopping =
          context.long_polls != nullptr ? &context.long_polls->stopping() : nullptr;
      record = book->waitUntilFinished(id, wait, stopping);
    } else {
      record = book->get(id);
    }
  } else {
    record = book->get(id);
  }
  if (!record) return unknownCommand(id);
  return jsonResponse(200, commands::commandToJson(*record));
}

ApiResponse handleCancelCommand(const ApiContext& context, const ApiRequest& request) {
  CommandBook* book = context.state.commands();
  if (book == nullptr) return channelOff();
  if (auto bad = expectNoFields(request, "cancel")) return *bad;
  const std::string& id = request.path_params.at("id");
  Result<CommandRecord> cancelled = book->cancel(id, actorOf(request));
  if (cancelled.ok()) return jsonResponse(200, commands::commandToJson(*cancelled));
  switch (cancelled.status().code()) {
    case StatusCode::kNotFound:
      return unknownCommand(id);
    case StatusCode::kFailedPrecondition:
      return problem(409, cancelled.status().message());
    default:
      return problemFromStatus(cancelled.status());
  }
}

}  // namespace noa::controller::api
