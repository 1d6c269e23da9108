#!/usr/bin/env bash
# SANDBOX FIXTURE: installs in a sandbox target what a Torrust Tracker Deployer v0.1.0
# host has outside its deploy directory: the cron file /etc/cron.d/tracker-backup
# (0644), the deployer's /usr/local/bin/maintenance-backup.sh (0755) and a 0644
# /var/log/tracker-backup.log with the lines of yesterday's run. A file already there
# is kept: a second `up` must not undo what a test did to it.
#
# Usage: host-files.sh TARGET_CONTAINER (run by scripts/sandbox.sh up, with the
# SANDBOX_* values ../render.py fills in).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
target="$1"

# Writes stdin to $2 in the target with mode $1, unless $2 exists. stdin is read to
# the end either way, so that the writer never dies of SIGPIPE.
install_in_target() {
  # shellcheck disable=SC2016 # expanded by the target's sh, from its arguments
  docker exec -i "${target}" sh -c \
    'if test -e "$2"; then cat >/dev/null; else cat >"$2" && chmod "$1" "$2"; fi' sh "$1" "$2"
}

python3 "${here}/../render.py" "${here}/tracker-backup.cron" | install_in_target 0644 /etc/cron.d/tracker-backup
install_in_target 0755 /usr/local/bin/maintenance-backup.sh <"${here}/maintenance-backup.sh"
SANDBOX_YESTERDAY="$(date -u -d '1 day ago' '+%Y-%m-%d')" python3 "${here}/../render.py" "${here}/tracker-backup-log.txt" \
  | install_in_target 0644 /var/log/tracker-backup.log
