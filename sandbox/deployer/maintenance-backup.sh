#!/bin/bash
# SANDBOX FIXTURE: a stand-in for the maintenance script a Torrust Tracker Deployer
# v0.1.0 host has in /usr/local/bin/maintenance-backup.sh. Same steps, in our words:
# stop the tracker, run the backup service of the compose project once, start the
# tracker again, writing section lines to /var/log/tracker-backup.log. (The backup
# image here is a stand-in, so a run of this script only shows the sequence.)
set -euo pipefail
log="/var/log/tracker-backup.log"
say() { printf '[%s] %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$*" >>"$log"; }

restart_tracker() {
  local code=$?
  say "INFO: Starting tracker container..."
  docker compose up -d tracker >/dev/null 2>&1 || say "ERROR: Failed to start tracker"
  say "Backup maintenance completed (exit code: $code)"
  exit "$code"
}
trap restart_tracker EXIT

say "Starting backup maintenance"
[ -f docker-compose.yml ] || { say "ERROR: docker-compose.yml not found"; exit 1; }
say "INFO: Stopping tracker container..."
docker compose stop tracker >/dev/null 2>&1
say "INFO: Running backup container (via backup profile)..."
docker compose --profile backup run --rm backup >/dev/null 2>&1
