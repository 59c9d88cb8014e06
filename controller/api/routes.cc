#include "controller/api/routes.h"

#include <algorithm>
#include <array>

#include "controller/api/access.h"
#include "controller/api/agents_handler.h"
#include "controller/api/audit_handler.h"
#include "controller/api/autoscale_handler.h"
#include "controller/api/backups_handler.h"
#include "controller/api/failover_handler.h"
#include "controller/api/commands_handler.h"
#include "controller/api/health_handler.h"
#include "controller/api/keys_handler.h"
#include "controller/api/metrics_handler.h"
#include "controller/api/problem.h"
#include "controller/api/services_handler.h"

namespace noa::controller::api {
namespace {

constexpr std::array kRoutes = {
    Route{"GET", "/v1/health", Role::kPublic, "Controller health, store status and agent counts",
          &handleHealth},
    Route{"GET", "/v1/agents", Role::kViewer,
          "All agents, optionally filtered by service and state", &handleListAgents},
    Route{"GET", "/v1/agents/{id}", Role::kViewer, "One agent", &handleGetAgent},
    Route{"GET", "/v1/agents/{id}/history", Role::kViewer, "Stored reports of one agent",
          &handleAgentHistory},
    Route{"GET", "/v1/agents/{id}/metrics", Role::kViewer,
          "One metric's values from stored reports", &handleAgentMetrics},
    Route{"GET", "/v1/services", Role::kViewer, "Agents grouped by service, with aggregates",
          &handleListServices},
    Route{"GET", "/v1/services/{name}", Role::kViewer,
          "One service: members, aggregates, replication", &handleGetService},
    Route{"GET", "/v1/services/{name}/primary", Role::kViewer,
          "The service's serving primary (member, endpoint, epoch); 404 while there is none",
          &handleGetPrimary},
    Route{"GET", "/v1/services/{name}/failover", Role::kViewer,
          "Leader record, lease, transition in progress and members of a replicated service",
          &handleGetFailover},
    Route{"GET", "/v1/services/{name}/history", Role::kViewer,
          "The timeline of leaders with reasons, newest first", &handleLeaderHistory},
    Route{"POST", "/v1/services/{name}/switchover", Role::kOperator,
          "Planned switchover (zero loss: waits for the candidate to catch up)", &handleSwitchover},
    Route{"POST", "/v1/services/{name}/failover", Role::kOperator,
          "Forced failover to a named member (may lose unreplicated writes)", &handleForceFailover},
    Route{"POST", "/v1/services/{name}/pause", Role::kOperator,
          "Maintenance mode: no automatic failover", &handlePauseFailover},
    Route{"POST", "/v1/services/{name}/resume", Role::kOperator,
          "End maintenance mode", &handleResumeFailover},
    Route{"GET", "/v1/services/{name}/autoscale", Role::kViewer,
          "Autoscaling: policy, mode, replicas, conditions, proposals and recent decisions",
          &handleGetAutoscale},
    Route{"POST", "/v1/services/{name}/scale", Role::kOperator,
          "Manual scale: pin the replica count until a ttl ends", &handleScaleService},
    Route{"POST", "/v1/services/{name}/autoscale/pause", Role::kOperator,
          "Stop actuating autoscale decisions (they are still recorded)", &handlePauseAutoscale},
    Route{"POST", "/v1/services/{name}/autoscale/resume", Role::kOperator,
          "Actuate autoscale decisions again", &handleResumeAutoscale},
    Route{"GET", "/v1/decisions", Role::kViewer,
          "Decision records with inputs and reasons, newest first", &handleListDecisions},
    Route{"GET", "/v1/keys", Role::kViewer, "Agent keys (CURVE) and their enrollment state",
          &handleListKeys},
    Route{"POST", "/v1/keys/{id}/accept", Role::kAdmin,
          "Accept a pending key (binds it to the claimed or given agent id)", &handleAcceptKey},
    Route{"POST", "/v1/keys/{id}/reject", Role::kAdmin, "Reject a pending key", &handleRejectKey},
    Route{"POST", "/v1/keys/{id}/revoke", Role::kAdmin, "Revoke a key and close its agent session",
          &handleRevokeKey},
    Route{"GET", "/v1/commands", Role::kViewer,
          "Commands, newest first, optionally filtered by state, service and agent",
          &handleListCommands},
    Route{"POST", "/v1/commands", Role::kOperator,
          "Create a command for an agent, or for the agent in a role of a service",
          &handleCreateCommand},
    Route{"GET", "/v1/commands/{id}", Role::kViewer,
          "One command; with wait=, answers as soon as it has finished", &handleGetCommand},
    Route{"POST", "/v1/commands/{id}/cancel", Role::kOperator,
          "Cancel a command (at once when not sent yet, else the agent is told)",
          &handleCancelCommand},
    // /v1/backups/status before /v1/backups/{id}, which would take "status" for an id.
    Route{"GET", "/v1/backups", Role::kViewer,
          "Backups, newest first, optionally filtered by service, status and policy",
          &handleListBackups},
    Route{"GET", "/v1/backups/status", Role::kViewer,
          "Per service: the newest backup against the RPO target and the last restore drill",
          &handleBackupStatus},
    Route{"GET", "/v1/backups/{id}", Role::kViewer, "One backup, with its verifications and drills",
          &handleGetBackup},
    Route{"POST", "/v1/backups", Role::kOperator,
          "Take a backup of a service now (of one of its policies, or the default pg_dump)",
          &handleCreateBackup},
    Route{"POST", "/v1/backups/{id}/restore", Role::kOperator,
          "Restore a backup into a named database", &handleRestoreBackup},
    Route{"POST", "/v1/backups/{id}/verify", Role::kOperator,
          "Verify a backup's artifact (checksum and contents) on the agent that holds it",
          &handleVerifyBackup},
    Route{"POST", "/v1/backups/{id}/pin", Role::kOperator,
          "Pin a backup (retention never prunes it) or unpin it", &handlePinBackup},
    Route{"POST", "/v1/backups/drills", Role::kOperator,
          "Restore drill now: the service's newest good backup into a scratch database",
          &handleCreateDrill},
    Route{"GET", "/v1/audit", Role::kAdmin, "The audit log, newest first", &handleListAudit},
    Route{"GET", "/metrics", Role::kPublic, "Prometheus metrics of the controller", &handleMetrics},
};

// Splits "/a/b" into {"a", "b"}; an empty path or a trailing slash yields an empty segment, so
// "/v1/agents/" does not match "/v1/agents".
std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path.front() != '/') return out;
  size_t start = 1;
  while (true) {
    const size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) {
      out.push_back(path.substr(start));
      return out;
    }
    out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
}

}  // namespace

std::span<const Route> routeTable() { return kRoutes; }

bool matchPath(std::string_view pattern, std::string_view path,
               std::map<std::string, std::string>* params) {
  const auto want = segments(pattern);
  const auto have = segments(path);
  if (want.empty() || want.size() != have.size()) return false;
  std::map<std::string, std::string> found;
  for (size_t i = 0; i < want.size(); ++i) {
    const std::string_view w = want[i];
    if (w.size() > 2 && w.front() == '{' && w.back() == '}') {
      if (have[i].empty()) return false;
      found[std::string(w.substr(1, w.size() - 2))] = std::string(have[i]);
    } else if (w != have[i]) {
      return false;
    }
  }
  if (params != nullptr) *params = std::move(found);
  return true;
}

RouteMatch findRoute(std::string_view method, std::string_view path,
                     std::span<const Route> routes) {
  RouteMatch match;
  const std::string_view effective = method == "HEAD" ? std::string_view("GET") : method;
  for (const Route& route : routes) {
    std::map<std::string, std::string> params;
    if (!matchPath(route.path, path, &params)) continue;
    match.allow.push_back(route.method);
    if (route.method == "GET") match.allow.push_back("HEAD");
    if (match.route == nullptr && route.method == effective) {
      match.route = &route;
      match.params = std::move(params);
    }
  }
  std::sort(match.allow.begin(), match.allow.end());
  match.allow.erase(std::unique(match.allow.begin(), match.allow.end()), match.allow.end());
  return match;
}

std::string_view routeLabel(std::string_view path, std::span<const Route> routes) {
  for (const Route& route : routes) {
    if (matchPath(route.path, path, nullptr)) return route.path;
  }
  return "unmatched";
}

Dispatched dispatchRequest(const ApiContext& context, ApiRequest request,
                           std::span<const Route> routes) {
  Dispatched out;
  RouteMatch match = findRoute(request.method, request.path, routes);
  if (match.route == nullptr) {
    if (match.allow.empty()) {
      out.response = problem(404, "no such path: " + request.path);
      return out;
    }
    std::string allow;
    for (std::string_view m : match.allow) {
      if (!allow.empty()) allow += ", ";
      allow += m;
    }
    ApiResponse res = problem(
        405, request.method + " is not allowed on " + request.path + " (allowed: " + allow + ")");
    res.headers.emplace_back("Allow", allow);
    out.response = std::move(res);
    return out;
  }
  out.route = match.route;
  if (auto refused = checkAccess(context, *match.route, request, out.caller)) {
    out.response = std::move(*refused);
    return out;
  }
  request.caller = out.caller;
  request.path_params = std::move(match.params);
  out.response = match.route->handler(context, request);
  return out;
}

}  // namespace noa::controller::api
