#pragma once

// Backups over REST (schemas/openapi.yaml, "Backup"), served by the BackupCoordinator:
//   GET  /v1/backups                   the catalog, newest first; service=, status=, policy=,
//                                      limit= (1..1000, default 100)
//   GET  /v1/backups/status            per service: the RPO now and the last restore drill
//   GET  /v1/backups/{id}              one entry, with its verifications and drills
//   POST /v1/backups                   {"service", "policy"?}: a backup now -> 201 command
//   POST /v1/backups/{id}/restore      {"target_db", "swap"?}: restore it -> 201 command
//   POST /v1/backups/{id}/verify       no body or {}: re-check the artifact -> 201 command
//   POST /v1/backups/{id}/pin          {"pinned"?} (default true): never prune it -> 200 entry
//   POST /v1/backups/drills            {"service"}: a restore drill now -> 201 command
// Entries are backupToJson() (controller/backups/backup_entry.h), commands commandToJson(); a
// created command's Location is /v1/commands/{id}, where `noactl ... --wait` follows it.
// 503 when the controller runs without backups.

#include "controller/api/api_types.h"

namespace noa::controller::api {

ApiResponse handleListBackups(const ApiContext& context, const ApiRequest& request);
ApiResponse handleBackupStatus(const ApiContext& context, const ApiRequest& request);
ApiResponse handleGetBackup(const ApiContext& context, const ApiRequest& request);
ApiResponse handleCreateBackup(const ApiContext& context, const ApiRequest& request);
ApiResponse handleRestoreBackup(const ApiContext& context, const ApiRequest& request);
ApiResponse handleVerifyBackup(const ApiContext& context, const ApiRequest& request);
ApiResponse handlePinBackup(const ApiContext& context, const ApiRequest& request);
ApiResponse handleCreateDrill(const ApiContext& context, const ApiRequest& request);

}  // namespace noa::controller::api
