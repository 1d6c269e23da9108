#!/usr/bin/env bash
# molecule.sh: run the role's Molecule scenario (roles/tracker_backup/molecule/<scenario>)
# with plain ansible-playbook, in Molecule's default order: syntax, create, prepare,
# converge, idempotence, verify, destroy. Molecule itself is not installable here.
# Run from anywhere as root on a machine prepared by scripts/setup.sh; it creates and
# destroys its own sandbox target. Usage: scripts/molecule.sh [scenario] [--keep]
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
readonly ROOT
SCENARIO="default"
KEEP=false
SANDBOX="molecule-$$"
STATE=""
PASSED=0
FAILED=0

log() {
  printf '[%s] INFO: %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S')" "$*" >&2
}

die() {
  printf '[%s] ERROR: %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S')" "$*" >&2
  exit 1
}

playbook() {
  local name="$1"
  shift
  ANSIBLE_CONFIG="$STATE/ansible/ansible.cfg" \
    ANSIBLE_ROLES_PATH="$ROOT/roles" \
    TRACKER_BACKUP_STATS_FILE="$STATE/stats.json" \
    ansible-playbook -i "$STATE/ansible/inventory.yml" "$@" "$ROOT/roles/tracker_backup/molecule/$SCENARIO/$name.yml"
}

changed_count() {
  python3 -c 'import json,sys; print(sum(h["changed"] for h in json.load(open(sys.argv[1]))["hosts"].values()))' "$STATE/stats.json"
}

step_syntax() {
  local name
  for name in prepare converge verify; do
    ANSIBLE_ROLES_PATH="$ROOT/roles" ansible-playbook -i localhost, --syntax-check \
      "$ROOT/roles/tracker_backup/molecule/$SCENARIO/$name.yml" >/dev/null
  done
}

step_create() {
  local env_file
  env_file="$(TRACKER_BACKUP_ENV_DIR="$STATE" "$ROOT/scripts/sandbox.sh" up "$SANDBOX" | tail -n 1)"
  (cd "$ROOT" && npx tsx src/cli/bin.ts render --env "$env_file" --out "$STATE/ansible" >/dev/null)
}

step_prepare() { playbook prepare; }
step_converge() { playbook converge; }

step_idempotence() {
  local changed
  playbook converge
  changed="$(changed_count)"
  [[ "$changed" == 0 ]] || {
    log "second converge changed $changed task(s); expected 0"
    return 1
  }
}

step_verify() { playbook verify; }

step_destroy() {
  if [[ "$KEEP" == true ]]; then
    log "keeping sandbox $SANDBOX (--keep); remove it with scripts/sandbox.sh down $SANDBOX"
    return 0
  fi
  "$ROOT/scripts/sandbox.sh" down "$SANDBOX" >/dev/null
}

run_step() {
  local step="$1"
  log "molecule [$SCENARIO] $step"
  if "step_$step"; then
    PASSED=$((PASSED + 1))
    return 0
  fi
  FAILED=$((FAILED + 1))
  log "molecule [$SCENARIO] $step FAILED"
  return 1
}

main() {
  local arg step
  for arg in "$@"; do
    case "$arg" in
      --keep) KEEP=true ;;
      -h | --help)
        sed -n '2,6p' "$0"
        return 0
        ;;
      -*) die "unknown option $arg" ;;
      *) SCENARIO="$arg" ;;
    esac
  done
  [[ -d "$ROOT/roles/tracker_backup/molecule/$SCENARIO" ]] || die "no scenario $SCENARIO"
  STATE="$(mktemp -d /tmp/tracker-backup-molecule.XXXXXX)"
  for step in syntax create prepare converge idempotence verify; do
    run_step "$step" || break
  done
  # Destroy always runs, like Molecule's, so a failed scenario leaves nothing behind.
  run_step destroy || true
  rm -rf "$STATE"
  printf 'molecule: %d passed, %d failed\n' "$PASSED" "$FAILED"
  ((FAILED == 0))
}

main "$@"
