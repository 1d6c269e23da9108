#!/usr/bin/env bash
# maintenance-backup.sh: stop the tracker, back up its database and config, start it again.
#
# Installed by the tracker_backup role. Cron runs it from the tracker's compose project:
#   cd /opt/torrust && /usr/local/bin/maintenance-backup.sh >> /var/log/tracker-backup.log 2>&1
# It reads storage/backup/etc/backup.conf (relative to that directory), works with
# `docker compose` (v2) and `docker-compose` (v1), and starts the tracker again whatever
# happens to the backup, unless the tracker was not running to begin with.
#
# Exit codes: 0 backup done; 1 backup failed (tracker restarted if it had been running);
# 75 another backup holds the lock (nothing done).
set -euo pipefail
# Backups hold the tracker's database: nothing this script creates is for other users.
umask 077
# cron's PATH is /usr/bin:/bin; docker and compose may live in /usr/local/bin.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH

# shellcheck source=SCRIPTDIR/lib/lib.sh
source /usr/local/lib/tracker-backup/lib.sh

readonly CONFIG_FILE=storage/backup/etc/backup.conf
readonly LOCK_FILE=storage/backup/etc/maintenance.lock
readonly BACKUP_SERVICE=backup
readonly EXIT_BUSY=75
readonly START_WAIT_SECONDS=60

COMPOSE=()
TRACKER_SERVICE=""
TRACKER_STOPPED=false
STOPPED_AT=0

detect_compose() {
  if docker compose version >/dev/null 2>&1; then
    COMPOSE=(docker compose)
  elif command -v docker-compose >/dev/null 2>&1; then
    COMPOSE=(docker-compose)
  else
    die "neither 'docker compose' nor 'docker-compose' is installed"
  fi
}

# Compose prints its own progress lines ("Stopping x ... done"); they get the log format
# too, so every line of /var/log/tracker-backup.log parses the same way. Lines from the
# backup container already have it and pass through unchanged.
relay_output() {
  local line
  while IFS= read -r line; do
    line="${line//$'\r'/}"
    [[ -z "$line" ]] && continue
    if [[ "$line" =~ ^\[[0-9]{4}-[0-9]{2}-[0-9]{2}\ [0-9:]{8}\]\  ]]; then
      printf '%s\n' "$line"
    else
      log INFO "compose: $line"
    fi
  done
}

compose() {
  "${COMPOSE[@]}" "$@" 2>&1 | relay_output
  return "${PIPESTATUS[0]}"
}

tracker_running() {
  local id
  # v1 lists stopped containers too, so ask docker for each container's state.
  for id in $("${COMPOSE[@]}" ps -q "$TRACKER_SERVICE" 2>/dev/null); do
    [[ "$(docker inspect --format '{{.State.Running}}' "$id" 2>/dev/null)" == true ]] && return 0
  done
  return 1
}

stop_tracker() {
  log INFO "Stopping tracker container..."
  compose stop "$TRACKER_SERVICE" || die "could not stop the tracker service '$TRACKER_SERVICE'"
  TRACKER_STOPPED=true
  STOPPED_AT="$(date +%s)"
  log INFO "Tracker stopped successfully"
}

start_tracker() {
  local waited=0
  log INFO "Starting tracker container..."
  if ! compose start "$TRACKER_SERVICE"; then
    log ERROR "could not start the tracker service '$TRACKER_SERVICE'"
    return 1
  fi
  until tracker_running; do
    if ((waited >= START_WAIT_SECONDS)); then
      log ERROR "Tracker is not running ${START_WAIT_SECONDS}s after start"
      return 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
  TRACKER_STOPPED=false
  log INFO "Tracker started successfully (down for $(($(date +%s) - STOPPED_AT))s)"
}

run_backup_container() {
  # -T: no TTY under cron; the profile keeps `up -d` from ever starting this service.
  compose --profile backup run --rm -T "$BACKUP_SERVICE" "$@"
}

# Runs on every exit, including failures and signals: the tracker must not stay down
# because a backup failed.
on_exit() {
  local code=$?
  if [[ "$TRACKER_STOPPED" == true ]]; then
    start_tracker || code=1
  fi
  printf '[%s] Backup maintenance completed (exit code: %d)\n' "$(date -u '+%Y-%m-%d %H:%M:%S')" "$code"
  exit "$code"
}

acquire_lock() {
  exec 9>>"$LOCK_FILE"
  # flock on an open descriptor: the kernel drops it when this process dies, so a killed
  # run never leaves a stale lock behind.
  if ! flock --nonblock 9; then
    log ERROR "Another backup is already running (lock $PWD/$LOCK_FILE is held); not starting a second one"
    exit "$EXIT_BUSY"
  fi
}

main() {
  [[ -r "$CONFIG_FILE" ]] \
    || die "cannot read $PWD/$CONFIG_FILE: run this from the tracker's deploy directory (e.g. cd /opt/torrust)"
  require_tools docker flock
  load_config "$CONFIG_FILE"
  TRACKER_SERVICE="$(config TRACKER_SERVICE)"
  detect_compose
  trap on_exit EXIT
  trap 'exit 130' INT TERM
  acquire_lock

  if tracker_running; then
    stop_tracker
  else
    log WARN "Tracker is not running; it will be left stopped after the backup"
  fi

  log INFO "Running backup container (via backup profile)..."
  run_backup_container snapshot || die "Backup failed: the database snapshot did not complete"
  if [[ "$TRACKER_STOPPED" == true ]]; then
    start_tracker || die "Backup snapshot taken but the tracker did not start again"
  fi
  run_backup_container finish || die "Backup failed: compressing, verifying or archiving did not complete"
  log INFO "Backup completed successfully"
}

main "$@"
