#include "agent/runtime/pod_labeler.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "agent/http/http_client.h"
#include "common/log.h"

namespace noa::agent {
namespace {

Result<std::string> readToken(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("token file '" + path + "' cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  std::string token = text.str();
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) {
    token.pop_back();
  }
  if (token.empty()) return Status::FailedPrecondition("token file '" + path + "' is empty");
  return token;
}

Status httpStatus(int code, const std::string& body, const std::string& what) {
  std::string message = what + ": HTTP " + std::to_string(code);
  // The API server answers errors with a Status object whose message says what went wrong.
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string()) {
    message += ": " + j["message"].get<std::string>();
  }
  if (code == 401 || code == 403) return Status::PermissionDenied(message);
  if (code == 404) return Status::NotFound(message);
  if (code == 409 || code == 429 || code >= 500) return Status::Unavailable(message);
  return Status::FailedPrecondition(message);
}

}  // namespace

std::string_view wantedPodRole(ServiceRole role, bool lease_valid, bool fenced) {
  return role == ServiceRole::kPrimary && lease_valid && !fenced ? kPodRolePrimary
                                                                 : kPodRoleReplica;
}

Status patchPodLabel(const PodLabelTarget& target, const std::string& label,
                     const std::string& value) {
  NOA_ASSIGN_OR_RETURN(std::string token, readToken(target.token_file));
  const std::string path =
      "/api/v1/namespaces/" + target.k8s_namespace + "/pods/" + target.pod;
  HttpRequest request;
  request.method = "PATCH";
  request.url = target.api_server + path;
  request.connect_timeout = target.timeout;
  request.io_timeout = target.timeout;
  request.total_timeout = target.timeout * 2;
  request.ca_file = target.ca_file;
  request.headers = {{"Accept", "application/json"}, {"Authorization", "Bearer " + token}};
  request.body = nlohmann::json{{"metadata", {{"labels", {{label, value}}}}}}.dump();
  request.content_type = "application/merge-patch+json";
  const std::string what = "PATCH " + path;
  Result<HttpResponse> res = httpCall(request, 1024 * 1024);
  if (!res.ok()) {
    if (res.status().code() == StatusCode::kInvalidArgument) {
      return Status::InvalidArgument("bad api server '" + target.api_server + "'");
    }
    return Status(res.status().code() == StatusCode::kFailedPrecondition
                      ? StatusCode::kFailedPrecondition
                      : StatusCode::kUnavailable,
                  what + ": " + httpErrorReason(res.status()));
  }
  if (res->head.status < 200 || res->head.status >= 300) {
    return httpStatus(res->head.status, res->body, what);
  }
  return Status::Ok();
}

bool PodLabelSchedule::due(MonoTime now, std::string_view wanted) const {
  if (now < retry_at_) return false;
  if (!applied_ || *applied_ != wanted) return true;
  return now >= last_ok_ + options_.reassert;
}

void PodLabelSchedule::finished(MonoTime now, std::string_view value, bool ok) {
  if (ok) {
    applied_ = std::string(value);
    last_ok_ = now;
    backoff_ = Millis(0);
    retry_at_ = MonoTime{};
    return;
  }
  // Unknown after a failure: the call may or may not have landed, so the next one is due as
  // soon as the back-off allows, whatever the wanted value is then.
  applied_.reset();
  backoff_ = backoff_.count() == 0 ? options_.min_backoff
                                   : std::min(backoff_ * 2, options_.max_backoff);
  retry_at_ = now + backoff_;
}

PodLabeler::PodLabeler(PodLabelerOptions options, Clock& clock, PodLabelerHooks hooks)
    : options_(std::move(options)), clock_(clock), hooks_(std::move(hooks)) {
  if (!hooks_.patch) hooks_.patch = patchPodLabel;
}

PodLabeler::~PodLabeler() { stop(); }

void PodLabeler::start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void PodLabeler::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PodLabeler::loop() {
  PodLabelSchedule schedule(options_.schedule);
  const PodLabelTarget& target = options_.target;
  const std::string pod = target.k8s_namespace + "/" + target.pod;
  bool last_failed = false;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    const PodLabelInputs in = hooks_.inputs ? hooks_.inputs() : PodLabelInputs{};
    const std::string wanted(wantedPodRole(in.role, in.lease_valid, in.fenced));
    const MonoTime now = clock_.now();
    if (schedule.due(now, wanted)) {
      const std::optional<std::string> before = schedule.applied();
      Status patched = hooks_.patch(target, options_.label, wanted);
      schedule.finished(clock_.now(), wanted, patched.ok());
      if (hooks_.on_patch) hooks_.on_patch(patched.ok());
      if (!patched.ok()) {
        // Every failure is logged at warn only on the first of a run: a long API outage
        // would otherwise log every back-off step.
        log::write(last_failed ? log::Level::kDebug : log::Level::kWarn,
                   "pod label patch failed",
                   {{"pod", pod},
                    {"label", options_.label},
                    {"value", wanted},
                    {"error", patched.toString()},
                    {"retry_in_ms", schedule.backoff().count()}});
        last_failed = true;
      } else {
        if (last_failed || before != schedule.applied()) {
          log::info("pod label set", {{"pod", pod},
                                      {"label", options_.label},
                                      {"value", wanted},
                                      {"service_role", std::string(serviceRoleName(in.role))},
                                      {"lease_valid", in.lease_valid},
                                      {"fenced", in.fenced}});
        }
        last_failed = false;
      }
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, options_.poll, [this] { return stopping_; });
    if (stopping_) return;
  }
}

}  // namespace noa::agent
