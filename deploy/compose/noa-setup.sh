#!/bin/bash
# One-shot setup inside the Compose stack (services noa-setup-controller / noa-setup-agents,
# profile "setup"; run by deploy/scripts/deploy-{dev,staging}.sh setup). Idempotent: keys and
# tokens that exist are kept.
#   noa-setup.sh controller      controller key pair, admin token (printed once to /host-secrets)
#   noa-setup.sh agents ID...    each agent's key pair, enrolled in the controller's allowlist
set -euo pipefail
NOA_UID=10001
# The container paths (overridable so tests/deploy can run this outside a container).
S=${NOA_SETUP_SECRETS:-/secrets} PUB=${NOA_SETUP_PUBLIC:-/public} HOST=${NOA_SETUP_HOST_SECRETS:-/host-secrets}
STATE=${NOA_SETUP_AGENT_STATE:-/var/lib/noa-agent} BACKUPS=${NOA_SETUP_BACKUPS:-/backups}
case ${1:-} in
  controller)
    if [[ ! -f "$S"/keys/controller.key ]]; then
      noa-controller keygen --key-dir "$S"/keys >/dev/null
      echo "noa-setup: made the controller's key pair"
    fi
    install -m 644 "$S"/keys/controller.pub "$PUB"/controller.pub
    if [[ ! -s "$S"/api-tokens ]]; then
      (umask 077; noa-controller token new --name admin --role admin --tokens-file "$S"/api-tokens \
        >"$HOST"/admin.token)
      echo "noa-setup: admin token written to secrets/admin.token (noactl --token-file)"
    fi
    touch "$S"/allowlist
    chown -R "$NOA_UID:$NOA_UID" "$S"
    chmod 700 "$S"/keys
    ;;
  agents)
    shift
    [[ -f "$S"/allowlist ]] || { echo "noa-setup: run the controller setup first" >&2; exit 1; }
    # Agents run as different users (postgres-* as 999, the others as 10001): each owns only its
    # own state dir (0700); the volume's root only has to be traversable. The postgres agents
    # write dumps into the backups volume.
    chmod 755 "$STATE"
    chown 999:999 "$BACKUPS" && chmod 700 "$BACKUPS"
    for id in "$@"; do
      uid=$NOA_UID
      [[ $id == postgres-* ]] && uid=999   # that agent runs as the postgres user, beside its server
      noa-agent show-key --state-dir "$STATE/$id" >/dev/null
      chown -R "$uid:$uid" "$STATE/$id"
      line="$id $(cat "$STATE/$id/agent.pub")"
      grep -qxF "$line" "$S"/allowlist || { echo "$line" >>"$S"/allowlist; echo "noa-setup: enrolled $id"; }
    done
    chown "$NOA_UID:$NOA_UID" "$S"/allowlist
    ;;
  *) echo "usage: noa-setup.sh controller | agents ID..." >&2; exit 2 ;;
esac
