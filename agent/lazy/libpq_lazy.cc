// libpq on first use: every PQ* function the agent calls, forwarded to libpq.so.5 (see
// lazy_forward.h). A new PQ* call elsewhere in the agent fails to link until it is added here.

#include <libpq-fe.h>

#include "agent/lazy/lazy_forward.h"
#include "agent/lazy/lazy_libs.h"

namespace noa::agent::lazy {
namespace {
LazyLibrary& libpq() {
  static LazyLibrary library("libpq.so.5", "postgres", "libpq5");
  return library;
}
}  // namespace

Status loadLibpq() { return libpq().load(); }

}  // namespace noa::agent::lazy

#define PQ_FORWARD(ret, name, params, args) \
  NOA_LAZY_FORWARD(noa::agent::lazy::libpq(), ret, name, params, args)

// clang-format off
PQ_FORWARD(void, PQclear, (PGresult* res), (res))
PQ_FORWARD(PostgresPollingStatusType, PQconnectPoll, (PGconn* conn), (conn))
PQ_FORWARD(PGconn*, PQconnectStart, (const char* conninfo), (conninfo))
PQ_FORWARD(PGconn*, PQconnectdbParams, (const char* const* keywords, const char* const* values, int expand_dbname), (keywords, values, expand_dbname))
PQ_FORWARD(void, PQconninfoFree, (PQconninfoOption* options), (options))
PQ_FORWARD(PQconninfoOption*, PQconninfoParse, (const char* conninfo, char** errmsg), (conninfo, errmsg))
PQ_FORWARD(int, PQconsumeInput, (PGconn* conn), (conn))
PQ_FORWARD(char*, PQerrorMessage, (const PGconn* conn), (conn))
PQ_FORWARD(char*, PQescapeIdentifier, (PGconn* conn, const char* str, size_t len), (conn, str, len))
PQ_FORWARD(PGresult*, PQexecParams, (PGconn* conn, const char* command, int nParams, const Oid* paramTypes, const char* const* paramValues, const int* paramLengths, const int* paramFormats, int resultFormat), (conn, command, nParams, paramTypes, paramValues, paramLengths, paramFormats, resultFormat))
PQ_FORWARD(void, PQfinish, (PGconn* conn), (conn))
PQ_FORWARD(void, PQfreemem, (void* ptr), (ptr))
PQ_FORWARD(PGresult*, PQgetResult, (PGconn* conn), (conn))
PQ_FORWARD(int, PQgetisnull, (const PGresult* res, int tup_num, int field_num), (res, tup_num, field_num))
PQ_FORWARD(char*, PQgetvalue, (const PGresult* res, int tup_num, int field_num), (res, tup_num, field_num))
PQ_FORWARD(int, PQisBusy, (PGconn* conn), (conn))
PQ_FORWARD(int, PQnfields, (const PGresult* res), (res))
PQ_FORWARD(int, PQntuples, (const PGresult* res), (res))
PQ_FORWARD(PGPing, PQping, (const char* conninfo), (conninfo))
PQ_FORWARD(char*, PQresultErrorMessage, (const PGresult* res), (res))
PQ_FORWARD(ExecStatusType, PQresultStatus, (const PGresult* res), (res))
PQ_FORWARD(int, PQsendQuery, (PGconn* conn, const char* query), (conn, query))
PQ_FORWARD(PQnoticeProcessor, PQsetNoticeProcessor, (PGconn* conn, PQnoticeProcessor proc, void* arg), (conn, proc, arg))
PQ_FORWARD(int, PQsocket, (const PGconn* conn), (conn))
PQ_FORWARD(ConnStatusType, PQstatus, (const PGconn* conn), (conn))
// clang-format on
