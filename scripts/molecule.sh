#!/usr/bin/env bash
# molecule.sh: run the role's Molecule scenario (roles/tracker_backup/molecule/<scenario>)
# as Molecule does, where Molecule itself is not installable (Debian 12 has no package):
# the scenario's playbooks in its test_sequence (syntax, create, prepare, converge,
# idempotence, verify, destroy), with the inventory, variables and ansible.cfg Molecule
# would generate from molecule.yml and the instance config that create.yml writes.
# Run from anywhere as root on a machine prepared by scripts/setup.sh (create.yml brings up
# a sandbox target, destroy.yml removes it). Usage: scripts/molecule.sh [scenario] [--keep]
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
readonly ROOT
SCENARIO="default"
KEEP=false
SCENARIO_DIR=""
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

# One run per scenario at a time: its platforms are sandboxes with fixed names.
lock() {
  local lock_dir="/run/lock"
  [[ -d "$lock_dir" && -w "$lock_dir" ]] || lock_dir="${TMPDIR:-/tmp}"
  exec 9>"$lock_dir/tracker-backup-molecule-$SCENARIO.lock"
  if ! flock -n 9; then
    log "waiting for another molecule.sh run of scenario $SCENARIO"
    flock 9
  fi
}

# The ephemeral directory's ansible.cfg and inventory, as Molecule writes them: the
# platforms in their groups (and in all), connected through the instance config once
# create.yml has written it, the molecule_* variables, and the scenario's inventory links.
# Prints provisioner.env as KEY=VALUE lines, ${VAR} expanded as Molecule does.
write_molecule_files() {
  python3 - <<'PY'
import configparser
import os
import sys

import yaml

env = os.environ
with open(env["MOLECULE_FILE"], encoding="utf-8") as f:
    scenario = yaml.safe_load(f)
state = env["MOLECULE_EPHEMERAL_DIRECTORY"]
try:
    with open(env["MOLECULE_INSTANCE_CONFIG"], encoding="utf-8") as f:
        instances = {i["instance"]: i for i in yaml.safe_load(f) or []}
except FileNotFoundError:
    instances = {}

molecule_vars = {
    "molecule_file": "{{ lookup('env', 'MOLECULE_FILE') }}",
    "molecule_ephemeral_directory": "{{ lookup('env', 'MOLECULE_EPHEMERAL_DIRECTORY') }}",
    "molecule_scenario_directory": "{{ lookup('env', 'MOLECULE_SCENARIO_DIRECTORY') }}",
    "molecule_yml": "{{ lookup('file', molecule_file) | from_yaml }}",
    "molecule_instance_config": "{{ lookup('env', 'MOLECULE_INSTANCE_CONFIG') }}",
}
ssh_args = " ".join([
    "-o UserKnownHostsFile=/dev/null", "-o ControlMaster=auto", "-o ControlPersist=60s",
    "-o ForwardX11=no", "-o LogLevel=ERROR", "-o IdentitiesOnly=yes", "-o StrictHostKeyChecking=no",
])
inventory = {"all": {"hosts": {}, "vars": molecule_vars}}
for platform in scenario["platforms"]:
    name = platform["name"]
    conn = {}
    if name in instances:
        i = instances[name]
        conn = {
            "ansible_user": i["user"], "ansible_host": i["address"], "ansible_port": i["port"],
            "ansible_private_key_file": i["identity_file"], "ansible_ssh_common_args": ssh_args,
        }
    inventory["all"]["hosts"][name] = conn
    for group in platform.get("groups", ["ungrouped"]):
        inventory.setdefault(group, {"hosts": {}, "vars": molecule_vars})["hosts"][name] = conn

inventory_dir = os.path.join(state, "inventory")
os.makedirs(inventory_dir, exist_ok=True)
with open(os.path.join(inventory_dir, "ansible_inventory.yml"), "w", encoding="utf-8") as f:
    yaml.safe_dump(inventory, f)
provisioner = scenario.get("provisioner", {})
for kind, target in provisioner.get("inventory", {}).get("links", {}).items():
    link = os.path.join(inventory_dir, kind)
    if not os.path.islink(link):
        os.symlink(os.path.join(env["MOLECULE_SCENARIO_DIRECTORY"], target), link)

config = configparser.ConfigParser(interpolation=None)
config.read_dict({"defaults": {"retry_files_enabled": False, "host_key_checking": False}})
config.read_dict(provisioner.get("config_options", {}))
with open(os.path.join(state, "ansible.cfg"), "w", encoding="utf-8") as f:
    config.write(f)
for key, value in provisioner.get("env", {}).items():
    print(f"{key}={os.path.expandvars(str(value))}")
PY
}

playbook() {
  local name="$1"
  shift
  local pairs
  local -a env_pairs=()
  # Called where errexit is off (run_step's if): every failure is returned by hand.
  pairs="$(write_molecule_files)" || return 1
  [[ -z "$pairs" ]] || mapfile -t env_pairs <<<"$pairs"
  env ANSIBLE_CONFIG="$STATE/ansible.cfg" "${env_pairs[@]}" \
    ansible-playbook -i "$STATE/inventory" "$@" "$SCENARIO_DIR/$name.yml"
}

step_syntax() { playbook converge --syntax-check; }
step_create() { playbook create; }
step_prepare() { playbook prepare; }
step_converge() { playbook converge; }

# Molecule's idempotence: a second converge whose recap has no changed=N for N > 0.
step_idempotence() {
  local output="$STATE/idempotence.log"
  ANSIBLE_NOCOLOR=1 playbook converge | tee "$output" || return 1
  if grep -Eq 'changed=[1-9]' "$output"; then
    log "the second converge changed something; expected changed=0"
    return 1
  fi
}

step_verify() { playbook verify; }

step_destroy() {
  if [[ "$KEEP" == true ]]; then
    log "keeping the instances (--keep); remove them with scripts/sandbox.sh down NAME"
    return 0
  fi
  playbook destroy
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
  local arg step steps
  for arg in "$@"; do
    case "$arg" in
      --keep) KEEP=true ;;
      -h | --help)
        sed -n '2,8p' "$0"
        return 0
        ;;
      -*) die "unknown option $arg" ;;
      *) SCENARIO="$arg" ;;
    esac
  done
  SCENARIO_DIR="$ROOT/roles/tracker_backup/molecule/$SCENARIO"
  [[ -f "$SCENARIO_DIR/molecule.yml" ]] || die "no scenario $SCENARIO"
  mapfile -t steps < <(python3 -c 'import sys, yaml; print("\n".join(yaml.safe_load(open(sys.argv[1]))["scenario"]["test_sequence"]))' "$SCENARIO_DIR/molecule.yml")
  for step in "${steps[@]}"; do
    declare -F "step_$step" >/dev/null || die "molecule.sh cannot run step $step of the test_sequence"
  done
  lock
  STATE="$(mktemp -d /tmp/tracker-backup-molecule.XXXXXX)"
  export MOLECULE_FILE="$SCENARIO_DIR/molecule.yml" MOLECULE_SCENARIO_NAME="$SCENARIO" \
    MOLECULE_SCENARIO_DIRECTORY="$SCENARIO_DIR" MOLECULE_PROJECT_DIRECTORY="$ROOT/roles/tracker_backup" \
    MOLECULE_EPHEMERAL_DIRECTORY="$STATE" MOLECULE_INSTANCE_CONFIG="$STATE/instance_config.yml"
  for step in "${steps[@]}"; do
    [[ "$step" != destroy ]] || continue
    run_step "$step" || break
  done
  # Destroy always runs, like Molecule's, so a failed scenario leaves nothing behind.
  run_step destroy || true
  rm -rf "$STATE"
  printf 'molecule: %d passed, %d failed\n' "$PASSED" "$FAILED"
  ((FAILED == 0))
}

main "$@"
