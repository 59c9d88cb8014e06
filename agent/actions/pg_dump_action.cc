#include "agent/actions/pg_dump_action.h"

#include <sys/stat.h>
#include <unistd.h>

#include "agent/actions/artifact_file.h"
#include "agent/actions/target_lock.h"
#include "agent/actions/verify_action.h"
#include "common/process/streaming_process.h"

namespace noa::agent::actions {
namespace {

constexpr const char* kAction = "backup.pg_dump";
constexpr std::chrono::seconds kProgressEvery{1};

struct SourceFacts {
  uint64_t db_size = 0;
  std::string server_version;
  std::string dbname;
};

Result<SourceFacts> readSourceFacts(const PgEndpoint& source) {
  NOA_ASSIGN_OR_RETURN(PgConn conn, PgConn::connect(source));
  NOA_ASSIGN_OR_RETURN(auto rows,
                       conn.query("select pg_database_size(current_database()), "
                                  "current_setting('server_version'), current_database()"));
  SourceFacts facts;
  facts.db_size = std::stoull(rows.at(0).at(0));
  facts.server_version = rows.at(0).at(1);
  facts.dbname = rows.at(0).at(2);
  return facts;
}

void report(const ActionContext& ctx, const std::string& phase, uint64_t done, uint64_t total) {
  if (ctx.on_progress) ctx.on_progress(Progress{phase, done, total});
}

}  // namespace

Result<PgDumpParams> PgDumpParams::fromJson(const nlohmann::json& json) {
  NOA_ASSIGN_OR_RETURN(
      ParamReader r, ParamReader::open(json, kAction,
                                       {"conninfo", "host", "port", "user", "dbname", "backup_dir",
                                        "name", "compression", "timeout_ms", "verify", "lock_dir",
                                        "pg_dump", "pg_restore"}));
  PgDumpParams p;
  NOA_RETURN_IF_ERROR(p.source.read(r));
  NOA_RETURN_IF_ERROR(r.str("backup_dir", p.backup_dir, /*required=*/true));
  NOA_RETURN_IF_ERROR(r.str("name", p.name));
  NOA_RETURN_IF_ERROR(r.str("compression", p.compression));
  NOA_RETURN_IF_ERROR(r.integer("timeout_ms", p.timeout_ms, 0, INT64_MAX / 2));
  NOA_RETURN_IF_ERROR(r.boolean("verify", p.verify));
  NOA_RETURN_IF_ERROR(r.str("lock_dir", p.lock_dir));
  NOA_RETURN_IF_ERROR(r.str("pg_dump", p.pg_dump));
  NOA_RETURN_IF_ERROR(r.str("pg_restore", p.pg_restore));
  NOA_ASSIGN_OR_RETURN(auto kw, p.source.keywords());
  if (kw.count("dbname") == 0) {
    return Status::InvalidArgument(std::string(kAction) +
                                   ": the database to dump is missing (param 'dbname' or "
                                   "dbname= in 'conninfo')");
  }
  if (!p.name.empty() &&
      (!isPlainFileName(p.name) || p.name.ends_with(kPartialSuffix) || p.name.ends_with(".json"))) {
    return Status::InvalidArgument(std::string(kAction) + ": param 'name' = '" + p.name +
                                   "' must be a plain file name (no '/', not ending in "
                                   ".partial or .json)");
  }
  if (p.zLevel() < 0) {
    return Status::InvalidArgument(std::string(kAction) + ": param 'compression' = '" +
                                   p.compression + "' must be none, gzip or gzip:1..gzip:9");
  }
  return p;
}

int PgDumpParams::zLevel() const {
  if (compression == "none") return 0;
  if (compression == "gzip") return 6;  // pg_dump's own default level
  if (compression.size() == 6 && compression.starts_with("gzip:") && compression[5] >= '1' &&
      compression[5] <= '9') {
    return compression[5] - '0';
  }
  return -1;
}

ActionResult runPgDump(const PgDumpParams& params, const ActionContext& ctx) {
  const Clock& clock = *ctx.clock;
  const MonoTime started = clock.now();
  const WallTime started_wall = clock.wallNow();
  ActionResult result;
  auto finish = [&]() -> ActionResult {
    result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(clock.now() - started);
    return result;
  };
  const auto timeout = effectiveTimeout(ctx, params.timeout_ms);
  auto remaining = [&]() -> std::chrono::milliseconds {
    if (timeout.count() <= 0) return std::chrono::milliseconds(0);
    auto left =
        timeout - std::chrono::duration_cast<std::chrono::milliseconds>(clock.now() - started);
    return std::max(left, std::chrono::milliseconds(1));
  };

  struct stat st;
  if (::stat(params.backup_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    fail(result, kErrInvalidParams, "backup_dir '" + params.backup_dir + "' is not a directory");
    return finish();
  }
  auto kw = params.source.keywords();
  if (!kw.ok()) {
    fail(result, kErrInvalidParams, kw.status().message());
    return finish();
  }
  const std::string dbname = (*kw)["dbname"];
  auto lock = TargetLock::acquire(params.lock_dir, pgLockTarget(dbname));
  if (!lock.ok()) {
    fail(result, lock.status().code() == StatusCode::kUnavailable ? kErrBusy : kErrIo,
         lock.status().message());
    return finish();
  }

  report(ctx, "prepare", 0, 0);
  auto facts = readSourceFacts(params.source);
  if (!facts.ok()) {
    fail(result, kErrToolFailed,
         "cannot read the size of database '" + dbname +
             "' before dumping: " + facts.status().message());
    return finish();
  }
  auto free_bytes = freeBytes(params.backup_dir);
  if (!free_bytes.ok()) {
    fail(result, kErrIo, free_bytes.status().message());
    return finish();
  }
  // An uncompressed custom dump is about the size of the data (indexes are not dumped); the
  // factor covers growth between the estimate and the end of the dump.
  const auto needed =
      static_cast<uint64_t>(static_cast<double>(facts->db_size) * params.space_factor);
  if (*free_bytes < needed) {
    fail(result, kErrNoSpace,
         "not enough free space in '" + params.backup_dir + "': " + std::to_string(*free_bytes) +
             " bytes free, " + std::to_string(needed) + " needed (database size " +
             std::to_string(facts->db_size) + " x " + std::to_string(params.space_factor) +
             "); existing backups were not touched");
    return finish();
  }
  auto version = toolVersion(params.pg_dump);
  if (!version.ok()) {
    fail(result,
         version.status().code() == StatusCode::kNotFound ? kErrToolMissing : kErrToolFailed,
         version.status().message());
    return finish();
  }

  const std::string name =
      params.name.empty() ? dbname + "-" + compactUtc(started_wall) + ".dump" : params.name;
  const std::string final_path = params.backup_dir + "/" + name;
  const std::string manifest_path = final_path + ".json";
  if (::lstat(manifest_path.c_str(), &st) == 0) {
    fail(result, kErrRefused, "manifest '" + manifest_path + "' already exists; not replacing it");
    return finish();
  }
  auto writer_or = ArtifactWriter::create(final_path);
  if (!writer_or.ok()) {
    const bool exists = writer_or.status().code() == StatusCode::kAlreadyExists;
    fail(result, exists ? kErrRefused : kErrIo, writer_or.status().message());
    return finish();
  }
  std::unique_ptr<ArtifactWriter> writer = std::move(*writer_or);
  // After create: the partial reserves the name, so a claimed path is this command's alone.
  if (Status claimed = claimArtifact(ctx, final_path); !claimed.ok()) {
    writer->abort();
    fail(result, kErrIo, "cannot journal the artifact path: " + claimed.message());
    return finish();
  }

  auto conn = toolConn(params.source);
  if (!conn.ok()) {
    fail(result, kErrInvalidParams, conn.status().message());
    return finish();
  }
  ProcessSpec spec;
  spec.argv = {params.pg_dump, "--format=custom", "--compress=" + std::to_string(params.zLevel()),
               "--no-password", "--dbname=" + conn->conninfo};
  if (!conn->password.empty()) spec.env["PGPASSWORD"] = conn->password;
  spec.timeout = remaining();

  MonoTime last_progress = clock.now();
  report(ctx, "dump", 0, facts->db_size);
  OutputSink sink = [&](std::string_view chunk) -> Status {
    NOA_RETURN_IF_ERROR(writer->write(chunk));
    MonoTime now = clock.now();
    if (now - last_progress >= kProgressEvery) {
      last_progress = now;
      report(ctx, "dump", writer->bytesWritten(), facts->db_size);
    }
    return Status::Ok();
  };
  auto run = runProcessStreaming(spec, sink, ctx.cancel);
  if (!run.ok()) {
    writer->abort();
    fail(result, run.status().code() == StatusCode::kNotFound ? kErrToolMissing : kErrToolFailed,
         run.status().message());
    return finish();
  }
  if (!run->sink_status.ok()) {
    writer->abort();
    result.stderr_tail = tailLines(run->process.stderr_tail);
    const bool full = run->sink_status.code() == StatusCode::kResourceExhausted;
    fail(result, full ? kErrNoSpace : kErrIo,
         run->sink_status.message() +
             "; the partial dump was removed, existing backups were "
             "not touched");
    return finish();
  }
  if (toolFailed("pg_dump", run->process, result)) {
    writer->abort();
    return finish();
  }
  report(ctx, "fsync", writer->bytesWritten(), facts->db_size);
  Status committed = writer->commit();
  if (!committed.ok()) {
    fail(result, committed.code() == StatusCode::kResourceExhausted ? kErrNoSpace : kErrIo,
         committed.message());
    return finish();
  }
  const WallTime stopped_wall = clock.wallNow();
  result.stderr_tail = tailLines(run->process.stderr_tail);

  // From here on a failure must not leave a committed artifact that nobody will record.
  auto discard = [&]() {
    ::unlink(final_path.c_str());
    Status ignored = fsyncDir(params.backup_dir);
    (void)ignored;
  };
  if (params.verify) {
    report(ctx, "verify", writer->bytesWritten(), writer->bytesWritten());
    ArtifactCheckControl control;
    control.cancel = ctx.cancel;
    control.clock = ctx.clock;
    control.timeout = remaining();
    ActionResult check = verifyPgDumpFile(final_path, writer->sha256(), params.pg_restore, control);
    if (!check.ok) {
      discard();
      // Whatever went wrong re-reading the dump, it is not a verified dump; only a cancel or the
      // deadline keep their own codes.
      const bool stopped = check.error_code == kErrCancelled || check.error_code == kErrTimeout;
      fail(result, stopped ? check.error_code.c_str() : kErrVerifyFailed,
           check.error + "; artifact removed");
      if (!check.stderr_tail.empty()) result.stderr_tail = check.stderr_tail;
      return finish();
    }
  }

  nlohmann::json manifest = {
      {"kind", "pg_dump"},
      {"artifact", name},
      {"sha256", writer->sha256()},
      {"size", writer->bytesWritten()},
      {"tool", "pg_dump"},
      {"tool_version", *version},
      {"format", "custom"},
      {"compression", params.compression},
      {"compress_level", params.zLevel()},
      {"source_db", facts->dbname},
      {"source_db_size", facts->db_size},
      {"server_version", facts->server_version},
      {"started_at", formatRfc3339(started_wall)},
      {"stopped_at", formatRfc3339(stopped_wall)},
      {"verified", params.verify},
  };
  if (!ctx.command_id.empty()) manifest["command_id"] = ctx.command_id;
  Status wrote = writeJsonAtomically(manifest_path, manifest);
  if (!wrote.ok()) {
    discard();
    fail(result, wrote.code() == StatusCode::kResourceExhausted ? kErrNoSpace : kErrIo,
         "writing the manifest failed (" + wrote.message() + "); artifact removed");
    return finish();
  }
  report(ctx, "done", writer->bytesWritten(), writer->bytesWritten());
  result.ok = true;
  result.bytes = writer->bytesWritten();
  result.sha256 = writer->sha256();
  result.artifact_path = final_path;
  result.details = manifest;
  result.details["manifest_path"] = manifest_path;
  return finish();
}

}  // namespace noa::agent::actions
