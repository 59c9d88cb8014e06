# shellcheck shell=bash
# Shared by deploy-dev.sh and deploy-staging.sh (sourced after lib.sh with ENV_NAME set):
# the Compose wrapper commands setup, start, status, logs, stop, cleanup.
COMPOSE_DIR=${NOA_COMPOSE_DIR:-$NOA_ROOT/deploy/compose}
SECRETS=$COMPOSE_DIR/secrets
ENV_FILE=$SECRETS/$ENV_NAME.env
DC_HINT="Install Docker Compose (Debian: apt-get install docker-compose docker.io) or set NOA_COMPOSE=\"docker compose\"."

compose() {
  local dc
  read -r -a dc <<<"${NOA_COMPOSE:-docker-compose}"
  need "${dc[0]}" "$DC_HINT"
  run "${dc[@]}" -p "noa-$ENV_NAME" --env-file "$ENV_FILE" --project-directory "$COMPOSE_DIR" \
    -f "$COMPOSE_DIR/docker-compose.yml" -f "$COMPOSE_DIR/docker-compose.$ENV_NAME.yml" "$@"
}
need_setup() { [[ -f $ENV_FILE ]] || die "no $ENV_FILE yet: run '$SCRIPT setup' first"; }
password() { head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32; }

compose_setup() {  # compose_setup "EXTRA ENV LINES"
  mkdir -p "$SECRETS" && chmod 700 "$SECRETS"
  if [[ ! -f $ENV_FILE ]]; then
    (umask 077; {
      echo "# Made by $SCRIPT setup: passwords and settings of the $ENV_NAME stack. Do not commit."
      echo "POSTGRES_PASSWORD=$(password)"
      echo "POSTGRES_REPLICATION_PASSWORD=$(password)"
      echo "REDIS_PASSWORD=$(password)"
      echo "GRAFANA_PASSWORD=$(password)"
      printf '%s\n' "$@"
    } >"$ENV_FILE")
    say "wrote $ENV_FILE"
  else
    say "keeping $ENV_FILE"
  fi
  compose build
  compose run --rm noa-setup-controller
  compose run --rm noa-setup-agents
  say "setup done; the admin token is in $SECRETS/admin.token"
}

compose_main() {
  case ${1:-} in
    setup) setup ;;
    config) need_setup; compose config ;;   # the rendered stack; needs no engine
    start) need_setup; compose up -d --remove-orphans ;;
    status)
      need_setup; compose ps
      if [[ -s $SECRETS/admin.token ]] && command -v noactl >/dev/null 2>&1; then
        run noactl --controller "${NOA_CONTROLLER_URL:-http://127.0.0.1:7700}" --token-file "$SECRETS/admin.token" status || true
      fi ;;
    logs) need_setup; shift; compose logs --tail="${NOA_LOG_LINES:-200}" "$@" ;;
    stop) need_setup; compose stop ;;
    cleanup)
      need_setup; compose down --volumes --remove-orphans
      say "volumes removed; $SECRETS is kept (delete it to start over with new keys and passwords)" ;;
    *) usage; exit 2 ;;
  esac
}
