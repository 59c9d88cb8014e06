#!/usr/bin/env bash
# Staging stack with Docker Compose (deploy/compose: docker-compose.yml + docker-compose.staging.yml):
# nginx with TLS in front, two replicas of the critical services, resource limits.
#
#   deploy-staging.sh setup     passwords (deploy/compose/secrets/staging.env), a self-signed TLS
#                               certificate unless secrets/tls/ has one, images, keys, admin token
#   deploy-staging.sh start     start everything (https://localhost/, REST API under /noa/)
#   deploy-staging.sh config    the rendered stack (docker-compose config; no engine needed)
#   deploy-staging.sh status    containers and their health
#   deploy-staging.sh logs [SERVICE...]
#   deploy-staging.sh stop      stop the containers, keep their volumes
#   deploy-staging.sh cleanup   remove containers and volumes (keeps deploy/compose/secrets)
#
# Every command it runs is printed first (NOA_DRY_RUN=1 prints only). Needs docker-compose (v1)
# or NOA_COMPOSE="docker compose", a Docker engine, and openssl for the self-signed certificate.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ENV_NAME=staging
source "$(dirname "$0")/compose-env.sh"
# Every agent of the staging stack (docker-compose.yml + docker-compose.staging.yml).
STAGING_AGENTS="mcp-1 mcp-2 claude-flow-1 claude-flow-2 ui-dashboard-1 llama-cpp-1 agenticos-1 postgres-1 postgres-2 redis-1 redis-2"
setup() {
  if [[ ! -s $SECRETS/tls/tls.crt ]]; then
    need openssl "Install openssl (apt-get install openssl) or put tls.crt and tls.key into $SECRETS/tls/."
    mkdir -p "$SECRETS/tls"
    run openssl req -x509 -newkey rsa:2048 -nodes -days 90 -subj "/CN=${NOA_STAGING_HOST:-localhost}" \
      -keyout "$SECRETS/tls/tls.key" -out "$SECRETS/tls/tls.crt"
    [[ -f $SECRETS/tls/tls.key ]] && chmod 644 "$SECRETS/tls/tls.key"   # nginx's unprivileged user reads it
  fi
  compose_setup NOA_LOG_LEVEL=info NODE_ENV=staging LOG_LEVEL=info PROMETHEUS_CONFIG=prometheus-staging.yml \
    "NOA_AGENT_IDS=$STAGING_AGENTS"
}
compose_main "$@"
