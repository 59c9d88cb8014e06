#include "tests/faults/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "tests/faults/trial.h"

namespace noa::testing::faults {

Result<std::unique_ptr<NetLab>> NetLab::create(int nodes) {
  std::unique_ptr<NetLab> lab(new NetLab());
  lab->prefix_ = "noaf" + std::to_string(::getpid());
  lab->hub_ = lab->prefix_ + "-hub";
  Status built = lab->build(nodes);
  if (!built.ok()) return built.withContext("network namespaces");  // ~NetLab removes the rest
  return lab;
}

Status NetLab::build(int nodes) {
  NOA_RETURN_IF_ERROR(run({"ip", "netns", "add", hub_}).status());
  nodes_ = 0;  // counted as they exist, so the destructor deletes exactly those
  const std::vector<std::string> in_hub = {"ip", "netns", "exec", hub_};
  auto hub = [&](std::vector<std::string> argv) {
    std::vector<std::string> full = in_hub;
    full.insert(full.end(), argv.begin(), argv.end());
    return run(full).status();
  };
  NOA_RETURN_IF_ERROR(hub({"ip", "link", "set", "lo", "up"}));
  NOA_RETURN_IF_ERROR(hub({"ip", "addr", "add", controllerAddress() + "/32", "dev", "lo"}));
  NOA_RETURN_IF_ERROR(hub({"sysctl", "-q", "-w", "net.ipv4.ip_forward=1"}));
  for (int i = 1; i <= nodes; ++i) {
    const std::string ns = node(i), end = "nfh" + std::to_string(i);
    const std::string hub_ip = "10.201." + std::to_string(i) + ".1";
    NOA_RETURN_IF_ERROR(run({"ip", "netns", "add", ns}).status());
    nodes_ = i;
    NOA_RETURN_IF_ERROR(hub({"ip", "link", "add", end, "type", "veth", "peer", "name", "eth0",
                             "netns", ns}));
    NOA_RETURN_IF_ERROR(hub({"ip", "addr", "add", hub_ip + "/24", "dev", end}));
    NOA_RETURN_IF_ERROR(hub({"ip", "link", "set", end, "up"}));
    std::vector<std::string> in_node = execIn(i);
    auto inNode = [&](std::vector<std::string> argv) {
      std::vector<std::string> full = in_node;
      full.insert(full.end(), argv.begin(), argv.end());
      return run(full).status();
    };
    NOA_RETURN_IF_ERROR(inNode({"ip", "link", "set", "lo", "up"}));
    NOA_RETURN_IF_ERROR(inNode({"ip", "addr", "add", nodeAddress(i) + "/24", "dev", "eth0"}));
    NOA_RETURN_IF_ERROR(inNode({"ip", "link", "set", "eth0", "up"}));
    NOA_RETURN_IF_ERROR(inNode({"ip", "route", "add", "default", "via", hub_ip}));
  }
  return Status::Ok();
}

NetLab::~NetLab() {
  // Deleting a namespace deletes the veth pairs in it.
  for (int i = 1; i <= nodes_; ++i) {
    auto r = run({"ip", "netns", "del", node(i)});
    if (!r.ok()) log::warn("netns cleanup", {{"error", r.status().toString()}});
  }
  if (!hub_.empty()) (void)run({"ip", "netns", "del", hub_});
}

Status NetLab::enter(const std::string& ns) {
  const std::string path = "/var/run/netns/" + ns;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IoError("open " + path + ": " + std::strerror(errno));
  const int rc = ::setns(fd, CLONE_NEWNET);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return Status::IoError("setns " + ns + ": " + std::strerror(err));
  return Status::Ok();
}

Status NetLab::cut(int i) const {
  return run({"ip", "netns", "exec", hub_, "ip", "link", "set", "nfh" + std::to_string(i), "down"})
      .status();
}

Status NetLab::heal(int i) const {
  return run({"ip", "netns", "exec", hub_, "ip", "link", "set", "nfh" + std::to_string(i), "up"})
      .status();
}

}  // namespace noa::testing::faults
