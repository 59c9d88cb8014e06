#!/bin/bash
# postgres-N: ordinal 0 initialises and starts as the primary; the others clone it once with
# pg_basebackup (-R writes standby.signal and primary_conninfo) and stream from it. After a
# failover the agents rejoin the old primary with pg_rewind (issue 6); this only sets the first roles.
set -euo pipefail
ordinal=${POD_NAME##*-}
if [[ $ordinal != 0 && ! -s $PGDATA/PG_VERSION ]]; then
  until pg_isready -q -h postgres-0.postgres-headless -p 5432; do sleep 2; done
  PGPASSWORD=$POSTGRES_REPLICATION_PASSWORD pg_basebackup -h postgres-0.postgres-headless \
    -U replicator -D "$PGDATA" -R -X stream -c fast
  chmod 700 "$PGDATA"
fi
exec docker-entrypoint.sh postgres -c listen_addresses='*' -c wal_level=replica \
  -c max_wal_senders=10 -c hot_standby=on -c wal_log_hints=on
