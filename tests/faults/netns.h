#pragma once

// Network namespaces for partition trials (ip netns + veth; needs root). No address leaves the
// machine and nothing is changed in the machine's own namespace:
//
//   hub   "noaf<pid>-hub": the controller (listens on 10.201.0.1, on the hub's lo), its REST API
//         on the hub's 127.0.0.1, and the trial thread itself (enter() moves the calling
//         thread in, so its HTTP requests and every process it starts live there).
//   node  "noaf<pid>-n<i>", i = 1..N: one service and its agent; eth0 10.201.<i>.2/24, default
//         route via the hub's end of the pair (nfh<i>, 10.201.<i>.1). The hub forwards between
//         nodes (its own ip_forward), so replicas reach their primary through it.
//
// cut(i) sets the hub's end of node i's pair down: the node keeps its loopback (its local
// clients still write to its service) but every packet to or from the rest is dropped, as when
// a host's link fails silently. heal(i) sets it up again. Everything is deleted on
// destruction (processes inside must be stopped first; ~NetLab does not kill them).

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace noa::testing::faults {

class NetLab {
 public:
  static Result<std::unique_ptr<NetLab>> create(int nodes);
  ~NetLab();

  // Moves the calling thread (and what it starts from now on) into the hub.
  Status enterHub() const { return enter(hub_); }
  // Moves the calling thread into node i (a writer beside the node's service).
  Status enterNode(int i) const { return enter(node(i)); }

  std::string node(int i) const { return prefix_ + "-n" + std::to_string(i); }
  const std::string& hub() const { return hub_; }
  static std::string controllerAddress() { return "10.201.0.1"; }
  static std::string nodeAddress(int i) { return "10.201." + std::to_string(i) + ".2"; }
  // {"ip", "netns", "exec", node(i)}: a prefix that keeps the PID (ip execs the program).
  std::vector<std::string> execIn(int i) const { return {"ip", "netns", "exec", node(i)}; }

  Status cut(int i) const;
  Status heal(int i) const;

 private:
  NetLab() = default;
  static Status enter(const std::string& ns);
  Status build(int nodes);

  std::string prefix_;
  std::string hub_;
  int nodes_ = 0;
};

}  // namespace noa::testing::faults
