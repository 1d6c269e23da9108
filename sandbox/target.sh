#!/usr/bin/env bash
#
# A sandbox's target container (built from target/): sshd published on 127.0.0.1 only,
# the host's Docker socket, the deploy directory mounted at the same absolute path
# (compose inside the target talks to the host's daemon, which resolves ./storage/...
# on the host) and the sandbox's public key as authorized key. Labels tie it to the
# sandbox's state directory and to the sandbox-id in it.
#   target.sh claim        fails when the container belongs to another state directory
#   target.sh start IMAGE  runs it (a new one, or the existing one of this sandbox)
#   target.sh state        its state (running, exited, ...); nothing when it does not exist
#   target.sh port         the published SSH port (fails when there is none)
#   target.sh remove       removes it
#
# Run by scripts/sandbox.sh. Environment: SANDBOX_NAME, SANDBOX_CONTAINER, SANDBOX_STATE,
# SANDBOX_DEPLOY, SANDBOX_KEY, SANDBOX_SSH_HOST (the address it publishes sshd on).
set -euo pipefail

readonly LABEL_PREFIX="tracker-backup-sandbox"
readonly CONTAINER="${SANDBOX_CONTAINER}"

log() {
  printf '[%s] %s: %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$1" "${*:2}" >&2
}

state() {
  docker inspect -f '{{.State.Status}}' "${CONTAINER}" 2>/dev/null || true
}

label() {
  docker inspect -f "{{index .Config.Labels \"${LABEL_PREFIX}.$1\"}}" "${CONTAINER}" 2>/dev/null || true
}

claim() {
  local owner
  owner="$(label state)"
  [[ -z "${owner}" || "${owner}" == "${SANDBOX_STATE}" ]] && return 0
  log ERROR "container ${CONTAINER} belongs to ${owner}; run 'TRACKER_BACKUP_SANDBOX_ROOT=$(dirname "${owner}") scripts/sandbox.sh down ${SANDBOX_NAME}' first"
  exit 1
}

start() {
  local image="$1" current sandbox_id
  sandbox_id="$(<"${SANDBOX_STATE}/sandbox-id")"
  current="$(state)"
  if [[ -n "${current}" && "$(label id)" != "${sandbox_id}" ]]; then
    # Created for an earlier state directory: its key and bind mounts point at files
    # that no longer exist.
    log INFO "replacing stale target container ${CONTAINER}"
    docker rm -f "${CONTAINER}" >/dev/null
    current=""
  fi
  case "${current}" in
    running)
      log INFO "reusing running target container ${CONTAINER}"
      [[ "$(docker inspect -f '{{.Image}}' "${CONTAINER}")" == "$(docker image inspect -f '{{.Id}}' "${image}")" ]] \
        || log WARN "${CONTAINER} runs an older ${image}; 'down' then 'up' to use the new one"
      ;;
    "")
      log INFO "starting target container ${CONTAINER}"
      docker run -d --name "${CONTAINER}" --hostname "${CONTAINER}" \
        --label "${LABEL_PREFIX}.name=${SANDBOX_NAME}" --label "${LABEL_PREFIX}.state=${SANDBOX_STATE}" \
        --label "${LABEL_PREFIX}.id=${sandbox_id}" -p "${SANDBOX_SSH_HOST}::22" \
        -v /var/run/docker.sock:/var/run/docker.sock -v "${SANDBOX_DEPLOY}:${SANDBOX_DEPLOY}" \
        -v "${SANDBOX_KEY}.pub:/etc/sandbox/authorized_keys:ro" "${image}" >/dev/null
      ;;
    *)
      log INFO "starting existing target container ${CONTAINER} (was ${current})"
      docker start "${CONTAINER}" >/dev/null
      ;;
  esac
}

port() {
  local mapping
  mapping="$(docker port "${CONTAINER}" 22/tcp 2>/dev/null | head -n 1)" || true
  [[ "${mapping}" =~ :([0-9]+)$ ]] || return 1
  printf '%s\n' "${BASH_REMATCH[1]}"
}

remove() {
  [[ -n "$(state)" ]] || return 0
  log INFO "removing target container ${CONTAINER}"
  docker rm -f "${CONTAINER}" >/dev/null || log WARN "could not remove ${CONTAINER}"
}

case "${1:-}" in
  claim | state | port | remove) "$1" ;;
  start) start "$2" ;;
  *) log ERROR "usage: target.sh claim | start IMAGE | state | port | remove" && exit 2 ;;
esac
