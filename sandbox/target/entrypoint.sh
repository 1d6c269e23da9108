#!/usr/bin/env bash
#
# Entrypoint of the sandbox target container (PID 1).
#
# Installs the operator's public key for the torrust user, makes sure host keys
# exist, starts the cron daemon and then replaces itself with sshd in the
# foreground, so `docker stop` signals sshd directly.
#
# Where it runs: inside tracker-backup-sandbox/target, started by
# scripts/sandbox.sh. dockerd is deliberately never started here: the host's
# Docker socket is mounted in and only the clients are used.
#
# Needs one of:
#   SANDBOX_AUTHORIZED_KEYS_FILE  file with the public key(s)
#                                 (default /etc/sandbox/authorized_keys, bind-mounted)
#   SANDBOX_AUTHORIZED_KEY        the public key itself
set -euo pipefail

readonly SSH_USER="torrust"
KEYS_FILE="${SANDBOX_AUTHORIZED_KEYS_FILE:-/etc/sandbox/authorized_keys}"

log() {
  printf '[%s] INFO: %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$*" >&2
}

die() {
  printf '[%s] ERROR: %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$*" >&2
  exit 1
}

install_authorized_keys() {
  local home ssh_dir keys
  home="$(getent passwd "${SSH_USER}" | cut -d: -f6)"
  [[ -n "${home}" ]] || die "user ${SSH_USER} does not exist"
  ssh_dir="${home}/.ssh"

  if [[ -n "${SANDBOX_AUTHORIZED_KEY:-}" ]]; then
    keys="${SANDBOX_AUTHORIZED_KEY}"
  elif [[ -r "${KEYS_FILE}" ]]; then
    keys="$(cat "${KEYS_FILE}")"
  else
    die "no public key: set SANDBOX_AUTHORIZED_KEY or mount one at ${KEYS_FILE}"
  fi
  [[ "${keys}" == ssh-* || "${keys}" == ecdsa-* ]] || die "the public key does not look like an OpenSSH public key"

  # sshd's StrictModes rejects keys in group/world-writable places.
  install -d -m 0700 -o "${SSH_USER}" -g "${SSH_USER}" "${ssh_dir}"
  printf '%s\n' "${keys}" >"${ssh_dir}/authorized_keys"
  chown "${SSH_USER}:${SSH_USER}" "${ssh_dir}/authorized_keys"
  chmod 0600 "${ssh_dir}/authorized_keys"
  log "installed authorized_keys for ${SSH_USER}"
}

start_cron() {
  # Debian's cron daemonises itself; its pid-file lock makes a second start on a
  # container restart harmless.
  if pgrep -x cron >/dev/null 2>&1; then
    log "cron already running"
  else
    /usr/sbin/cron
    log "cron started"
  fi
}

# As on a deployer-built host, the deploy user is in the docker group and that group owns
# the daemon's socket. Here the socket is the host's, owned by the host's docker group id,
# so the image's docker group takes that id.
align_docker_group() {
  local gid
  gid="$(stat -c %g /var/run/docker.sock 2>/dev/null)" || return 0
  [[ "${gid}" != 0 && "$(getent group docker | cut -d: -f3)" != "${gid}" ]] || return 0
  groupmod -o -g "${gid}" docker
  log "docker group now has the socket's id ${gid}"
}

main() {
  install_authorized_keys
  align_docker_group
  # -A only creates the key types that are missing.
  ssh-keygen -A >/dev/null
  mkdir -p /run/sshd
  start_cron
  log "starting sshd"
  exec /usr/sbin/sshd -D -e
}

main "$@"
