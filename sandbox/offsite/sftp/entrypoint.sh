#!/usr/bin/env bash
# Starts sshd with fresh host keys and AUTHORIZED_KEY (a public key line, from the test that
# started the container) as the restic user's only authorized key.
set -euo pipefail

main() {
  [[ "${AUTHORIZED_KEY:-}" =~ ^ssh-[a-z0-9-]+\ [A-Za-z0-9+/=]+ ]] || {
    printf 'offsite-sftp: AUTHORIZED_KEY must hold one public key line\n' >&2
    exit 2
  }
  ssh-keygen -A
  install -d -o restic -g restic -m 0700 /home/restic/.ssh
  printf '%s\n' "$AUTHORIZED_KEY" >/home/restic/.ssh/authorized_keys
  chown restic:restic /home/restic/.ssh/authorized_keys
  chmod 0600 /home/restic/.ssh/authorized_keys
  mkdir -p /run/sshd
  exec /usr/sbin/sshd -D -e
}

main "$@"
