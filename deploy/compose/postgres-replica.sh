#!/bin/bash
# Staging's PostgreSQL replica: clones the primary once (pg_basebackup -R writes standby.signal
# and primary_conninfo), then streams from it. After a failover the agents rejoin with pg_rewind
# (issue 6); this only sets the first roles.
set -euo pipefail
if [[ ! -s $PGDATA/PG_VERSION ]]; then
  until pg_isready -q -h postgres -p 5432; do sleep 2; done
  PGPASSWORD=$POSTGRES_REPLICATION_PASSWORD pg_basebackup -h postgres -U replicator -D "$PGDATA" -R -X stream -c fast
  chmod 700 "$PGDATA"
fi
exec docker-entrypoint.sh postgres
