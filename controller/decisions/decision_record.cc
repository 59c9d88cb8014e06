#include "controller/decisions/decision_record.h"

#include "controller/store/json_record.h"

namespace noa::controller::decisions {

nlohmann::json decisionToJson(const DecisionRecord& record) {
  return {{"id", record.id},         {"at_ms", record.at_ms},   {"service", record.service},
          {"kind", record.kind},     {"action", record.action}, {"reason", record.reason},
          {"inputs", record.inputs}, {"outcome", record.outcome}};
}

Result<DecisionRecord> decisionFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Status::InvalidArgument("decision: expected an object");
  JsonFields f(j, "decision");
  DecisionRecord r;
  NOA_RETURN_IF_ERROR(f.str("id", r.id));
  NOA_RETURN_IF_ERROR(f.integer("at_ms", r.at_ms));
  NOA_RETURN_IF_ERROR(f.str("service", r.service, true));
  NOA_RETURN_IF_ERROR(f.str("kind", r.kind, true));
  NOA_RETURN_IF_ERROR(f.str("action", r.action));
  NOA_RETURN_IF_ERROR(f.str("reason", r.reason, true));
  Status error = Status::Ok();
  if (const nlohmann::json* inputs = f.object("inputs", error)) r.inputs = *inputs;
  NOA_RETURN_IF_ERROR(error);
  if (const nlohmann::json* outcome = f.object("outcome", error)) r.outcome = *outcome;
  NOA_RETURN_IF_ERROR(error);
  return r;
}

}  // namespace noa::controller::decisions
