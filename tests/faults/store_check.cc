#include "tests/faults/store_check.h"

#include "controller/store/history_refresh.h"
#include "controller/store/store.h"

namespace noa::testing::faults {

Result<StoreFacts> checkStore(const std::string& path, const std::vector<std::string>& agents,
                              const std::vector<std::string>& command_ids) {
  controller::StoreOptions options;
  options.path = path;
  options.create_if_missing = false;
  NOA_ASSIGN_OR_RETURN(auto store, controller::Store::open(options));
  NOA_ASSIGN_OR_RETURN(auto records, store->loadAgents());
  // As the controller's start sees them: a record trails its history by up to a checkpoint.
  NOA_ASSIGN_OR_RETURN(size_t refreshed, controller::refreshFromHistory(*store, records));
  (void)refreshed;
  StoreFacts facts;
  facts.agents = records.size();
  for (const auto& id : agents) {
    bool found = false;
    for (const auto& r : records) {
      if (r.hello.agent_id == id) {
        found = true;
        facts.last_seq.emplace_back(id, r.last_seq);
      }
    }
    if (!found) return Status::FailedPrecondition("agent " + id + " missing from the store");
  }
  for (const auto& id : command_ids) {
    NOA_ASSIGN_OR_RETURN(auto value, store->get(controller::Family::kCommands, id));
    if (!value) return Status::FailedPrecondition("acknowledged command " + id + " lost");
  }
  NOA_ASSIGN_OR_RETURN(auto all, store->scan(controller::Family::kCommands, "", 1000000));
  facts.commands = all.size();
  return facts;
}

}  // namespace noa::testing::faults
