#pragma once

// Kubernetes pod label for the primary: keeps this agent's own pod labelled `<label>=primary`
// while its service runs as primary AND holds a valid, unfenced lease, `<label>=replica`
// otherwise (replica, down, fenced, no lease). A Service selecting `<label>: primary` then
// routes clients to the one member allowed to take writes; the label follows the lease guard,
// not the raw role, so a fenced primary leaves the Service as soon as it stops taking writes.
//
// The label is a routing hint, never the arbiter: the lease guard fences on its own, and a label
// patch that fails (API server down) changes nothing about who takes writes.
//
// Threads: one small thread of its own polls the inputs (cheap reads, every `poll`) and runs the
// PATCH calls (which block up to `timeout`), so neither the session nor the probes ever wait on
// the API server. Patches only on a change, re-asserted every `reassert` (someone may edit the
// label by hand), retried with exponential back-off after a failure.

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "agent/runtime/lease_guard.h"
#include "common/clock.h"
#include "common/status.h"

namespace noa::agent {

inline constexpr char kPodRolePrimary[] = "primary";
inline constexpr char kPodRoleReplica[] = "replica";

// The label value this pod should carry. Pure: "primary" only for a primary with a valid lease
// and no fence; everything else (including unknown = down) is "replica".
std::string_view wantedPodRole(ServiceRole role, bool lease_valid, bool fenced);

// Where and how to PATCH. api_server is "https://host:port".
struct PodLabelTarget {
  std::string api_server;
  std::string token_file;  // re-read on every call: the kubelet rotates projected tokens
  std::string ca_file;
  std::string k8s_namespace;
  std::string pod;
  Millis timeout{5000};
};

// One merge-patch of metadata.labels[label] = value on the pod. Unavailable for transport errors,
// 409/429/5xx; PermissionDenied for 401/403; NotFound for 404. Never puts the token in a message.
Status patchPodLabel(const PodLabelTarget& target, const std::string& label,
                     const std::string& value);

// When to patch (pure, fake-clock tested): on a change of the wanted value, every `reassert`
// after the last success, and after a failure not before the back-off has passed.
struct PodLabelScheduleOptions {
  Millis reassert{30000};
  Millis min_backoff{500};
  Millis max_backoff{30000};
};

class PodLabelSchedule {
 public:
  explicit PodLabelSchedule(PodLabelScheduleOptions options) : options_(options) {}
  bool due(MonoTime now, std::string_view wanted) const;
  void finished(MonoTime now, std::string_view value, bool ok);
  // The value last confirmed by the API server (nullopt: none yet, or the last call failed).
  const std::optional<std::string>& applied() const { return applied_; }
  Millis backoff() const { return backoff_; }

 private:
  PodLabelScheduleOptions options_;
  std::optional<std::string> applied_;
  MonoTime last_ok_{};
  MonoTime retry_at_{};
  Millis backoff_{0};
};

struct PodLabelInputs {
  ServiceRole role = ServiceRole::kUnknown;
  bool lease_valid = false;
  bool fenced = false;
};

struct PodLabelerOptions {
  std::string label = "role";
  PodLabelTarget target;
  PodLabelScheduleOptions schedule;
  Millis poll{100};  // how soon a lost lease or role change reaches the label
};

struct PodLabelerHooks {
  std::function<PodLabelInputs()> inputs;  // called on the labeler's thread, must not block
  std::function<void(bool ok)> on_patch;   // after every PATCH (metrics)
  // The call that does the PATCH; default patchPodLabel (tests may swap it).
  std::function<Status(const PodLabelTarget&, const std::string&, const std::string&)> patch;
};

class PodLabeler {
 public:
  PodLabeler(PodLabelerOptions options, Clock& clock, PodLabelerHooks hooks);
  ~PodLabeler();  // stop()
  PodLabeler(const PodLabeler&) = delete;
  PodLabeler& operator=(const PodLabeler&) = delete;

  void start();
  // Ends the thread (a PATCH in flight first completes or times out). The label stays as it
  // was: a stopped agent's pod may still say primary; its lease guard, not the label, is what
  // keeps writes off it, and the next primary's label is set by its own agent.
  void stop();

 private:
  void loop();

  PodLabelerOptions options_;
  Clock& clock_;
  PodLabelerHooks hooks_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace noa::agent
