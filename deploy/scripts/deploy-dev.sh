#!/usr/bin/env bash
# Development stack with Docker Compose (deploy/compose: docker-compose.yml + docker-compose.dev.yml).
#
#   deploy-dev.sh setup     passwords (deploy/compose/secrets/dev.env), images, keys, admin token
#   deploy-dev.sh start     start everything (ports on 127.0.0.1: REST 7700, Grafana 3000, Prometheus 9090)
#   deploy-dev.sh config    the rendered stack (docker-compose config; no engine needed)
#   deploy-dev.sh status    containers and their health (and noactl status when noactl is on PATH)
#   deploy-dev.sh logs [SERVICE...]
#   deploy-dev.sh stop      stop the containers, keep their volumes
#   deploy-dev.sh cleanup   remove containers and volumes (keeps deploy/compose/secrets)
#
# Every command it runs is printed first (NOA_DRY_RUN=1 prints only). Needs docker-compose (v1)
# or NOA_COMPOSE="docker compose" and a Docker engine.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ENV_NAME=dev
source "$(dirname "$0")/compose-env.sh"
setup() {
  compose_setup NOA_LOG_LEVEL=debug NODE_ENV=development LOG_LEVEL=debug PROMETHEUS_CONFIG=prometheus.yml \
    "NOA_AGENT_IDS=mcp-1 claude-flow-1 ui-dashboard-1 llama-cpp-1 agenticos-1 postgres-1 redis-1"
}
compose_main "$@"
