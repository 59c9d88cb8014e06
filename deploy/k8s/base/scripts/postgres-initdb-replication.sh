#!/bin/bash
# Run once by the postgres image's entrypoint when it initialises the primary's data directory:
# the replication role the replicas clone and stream with.
set -euo pipefail
psql -v ON_ERROR_STOP=1 -U postgres -d postgres \
  -c "CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD '${POSTGRES_REPLICATION_PASSWORD}'"
echo "host replication replicator all scram-sha-256" >>"$PGDATA/pg_hba.conf"
