# shellcheck shell=bash
# Shared by the deploy-*.sh wrappers: print what runs, fail clearly when a tool is missing.
NOA_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SCRIPT=$(basename "$0")
say() { echo "$SCRIPT: $*" >&2; }
die() { echo "$SCRIPT: error: $*" >&2; exit 1; }
# run CMD...: prints the command (shell-quoted) before running it; NOA_DRY_RUN=1 only prints.
run() {
  local a line="+"
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_./:=,@%+-]+$ ]]; then line+=" $a"; else line+=" $(printf '%q' "$a")"; fi
  done
  echo "$line" >&2
  [[ ${NOA_DRY_RUN:-0} == 1 ]] && return 0
  "$@"
}
# need TOOL HINT: exit 127 with a message naming the tool and how to get it.
need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "$SCRIPT: error: '$1' not found on PATH. $2" >&2
  exit 127
}
# usage: the script's header comment (line 2 up to the first line that is not a comment).
usage() { awk 'NR > 1 && /^#/ {sub(/^# ?/, ""); print; next} NR > 1 {exit}' "$0" >&2; }
