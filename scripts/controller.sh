#!/usr/bin/env bash
#
# A second Ansible controller: ansible-core 2.19 (Debian 13's package) in a
# container, so the generated project is also run with the newest ansible-core
# and not only with this machine's 2.14.
#
# `run` starts PROGRAM in a throwaway container with --network host (sandbox
# targets listen on 127.0.0.1) and bind-mounts, each at its own path, what the
# run needs from this machine: the working directory (the generated project),
# the directory of TRACKER_BACKUP_STATS_FILE, the SSH private keys named in the
# project's inventory.yml, and every existing absolute path named in the
# arguments (also inside a JSON --extra-vars, e.g. restore's from-dir).
# ANSIBLE_*, TRACKER_BACKUP_STATS_FILE, NO_COLOR and TZ are passed on by name,
# so their values never appear in a command line; nothing else of this
# environment (say TRACKER_BACKUP_SANDBOX_MYSQL_PASSWORD) reaches the container.
#
# sandbox/controller/bin/ansible-playbook runs `run ansible-playbook`; with that
# directory first in PATH the CLI uses this controller (the e2e helpers do that
# for TRACKER_BACKUP_CONTROLLER=2.19).
#
# Where to run: on the Docker host, as root (the container runs as root and
# writes into the working directory).
# Needs: docker (daemon running), python3, realpath, flock, debootstrap (only
# the first time, see scripts/base-image.sh).
#
# Usage: scripts/controller.sh build
#        scripts/controller.sh run PROGRAM [ARGS...]
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(dirname "${SCRIPT_DIR}")"
readonly SCRIPT_DIR REPO_ROOT
readonly IMAGE="tracker-backup-sandbox/controller:2.19"
CACHE_DIR="${TRACKER_BACKUP_CACHE:-/var/cache/tracker-backup}"
readonly CACHE_DIR

log() {
  printf '[%s] INFO: %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$*" >&2
}

die() {
  printf '[%s] ERROR: %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$*" >&2
  exit 1
}

usage() {
  cat <<'EOF'
Usage:
  scripts/controller.sh build                  (re)build the controller image
  scripts/controller.sh run PROGRAM [ARGS...]  run PROGRAM (ansible-playbook, ...)
                                               in it; builds the image if missing
  scripts/controller.sh --help

The image is tracker-backup-sandbox/controller:2.19: Debian 13 with
ansible-core 2.19, python3 and openssh-client. `run` uses the host network and
mounts the working directory, the stats file's directory, the inventory's SSH
keys and the absolute paths named in the arguments at their own paths.
Put sandbox/controller/bin first in PATH to make `ansible-playbook` use it.
EOF
}

require_commands() {
  local cmd
  for cmd in "$@"; do
    command -v "${cmd}" >/dev/null 2>&1 || die "required command not found: ${cmd}"
  done
}

build_image() {
  "${SCRIPT_DIR}/base-image.sh" trixie
  log "building ${IMAGE}"
  local build_log
  build_log="$(mktemp)"
  if ! docker build -t "${IMAGE}" "${REPO_ROOT}/sandbox/controller" >"${build_log}" 2>&1; then
    tail -n 40 "${build_log}" >&2
    rm -f -- "${build_log}"
    die "docker build of ${IMAGE} failed"
  fi
  rm -f -- "${build_log}"
  log "${IMAGE} ready"
}

# Several wrapper calls may start at once (parallel test files); only one of
# them builds.
ensure_image() {
  docker image inspect "${IMAGE}" >/dev/null 2>&1 && return 0
  mkdir -p "${CACHE_DIR}"
  exec 9>"${CACHE_DIR}/.controller-image.lock"
  flock 9
  docker image inspect "${IMAGE}" >/dev/null 2>&1 || build_image
  exec 9>&-
}

# The SSH keys of the inventory in the working directory and every existing
# absolute path among the arguments and the string values of JSON arguments,
# one per line. The arguments reach python3 as its argv, as they reach
# ansible-playbook itself: the CLI passes secrets in a file, never there.
named_paths() {
  python3 - "$@" <<'PY'
import json
import os
import re
import sys


def walk(value):
    if isinstance(value, str):
        if value.startswith("/") and os.path.exists(value):
            print(value)
    elif isinstance(value, dict):
        for item in value.values():
            walk(item)
    elif isinstance(value, list):
        for item in value:
            walk(item)


for arg in sys.argv[1:]:
    walk(arg)
    if arg[:1] in "{[":
        try:
            walk(json.loads(arg))
        except ValueError:
            pass

if os.path.isfile("inventory.yml"):
    with open("inventory.yml", encoding="utf-8") as inventory:
        for line in inventory:
            match = re.match(r"\s*ansible_ssh_private_key_file:\s*['\"]?([^'\"\s]+)", line)
            if match:
                walk(os.path.expanduser(match.group(1)))
PY
}

cmd_run() {
  (($# > 0)) || die "run needs a program, e.g. ansible-playbook"
  require_commands docker python3 realpath flock
  ensure_image

  local -a mounts=() envs=()
  local -A seen=()
  local path mode name
  # The working directory and the stats file's directory are written to;
  # everything else is only read.
  while IFS=' ' read -r mode path; do
    [[ -n "${path}" && -z "${seen[${path}]:-}" ]] || continue
    # ':' and ',' separate the fields of -v; such paths cannot be mounted.
    [[ "${path}" =~ ^/[A-Za-z0-9._/@+-]*$ ]] || die "cannot mount '${path}' into the controller (unsupported characters)"
    seen["${path}"]=1
    mounts+=(-v "${path}:${path}:${mode}")
  done < <(
    printf 'rw %s\n' "$(realpath -e .)"
    if [[ -n "${TRACKER_BACKUP_STATS_FILE:-}" ]]; then
      printf 'rw %s\n' "$(realpath -m "$(dirname "${TRACKER_BACKUP_STATS_FILE}")")"
    fi
    named_paths "$@" | while IFS= read -r path; do printf 'ro %s\n' "$(realpath -e "${path}")"; done
  )

  for name in $(compgen -e); do
    [[ "${name}" =~ ^(ANSIBLE_[A-Z0-9_]+|TRACKER_BACKUP_STATS_FILE|NO_COLOR|TZ)$ ]] && envs+=(-e "${name}")
  done

  # --init: tini passes Ctrl-C and docker stop on to Ansible and reaps ssh's
  # ControlPersist masters when it ends.
  exec docker run --rm -i --init --network host \
    "${mounts[@]}" "${envs[@]}" -w "$(realpath -e .)" \
    "${IMAGE}" "$@"
}

main() {
  local cmd="${1:-}"
  case "${cmd}" in
    -h | --help | help)
      usage
      ;;
    build)
      (($# == 1)) || die "build takes no arguments"
      require_commands docker flock
      build_image
      ;;
    run)
      shift
      cmd_run "$@"
      ;;
    *)
      usage >&2
      die "unknown command: ${cmd:-none}"
      ;;
  esac
}

main "$@"
