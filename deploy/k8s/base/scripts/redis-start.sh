#!/bin/bash
# redis-N: ordinal 0 starts as the primary, the others as its replicas. The password stays out of
# the process list (a config file in /tmp); the pid file is for the agent beside it. After a
# failover the agent and controller re-point replicas (issue 6); this only sets the first roles.
set -euo pipefail
ordinal=${POD_NAME##*-}
pass=$(cat /etc/noa/redis/password)
umask 077
{
  echo "port 6379"
  echo "dir /data"
  echo "appendonly yes"
  echo "pidfile /run/noa/service.pid"
  echo "requirepass $pass"
  echo "masterauth $pass"
  if [[ $ordinal != 0 ]]; then echo "replicaof redis-0.redis-headless 6379"; fi
} >/tmp/redis.conf
exec redis-server /tmp/redis.conf
