#!/usr/bin/env bash
# maintenance-backup.sh: back up the tracker's database and config, stopping the tracker
# only while the database snapshot is taken.
#
# Installed by the tracker_backup role. Cron runs it from the tracker's compose project:
#   cd /opt/torrust && /usr/local/bin/maintenance-backup.sh >> /var/log/tracker-backup.log 2>&1
# It reads storage/backup/etc/backup.conf (relative to that directory), works with
# `docker compose` (v2) and `docker-compose` (v1), starts the tracker again whatever
# happens to the backup (unless it was not running to begin with), and writes the run's
# outcome to storage/backup/status.json.
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

readonly BACKUP_DIR=storage/backup
readonly CONFIG_FILE="$BACKUP_DIR/etc/backup.conf"
readonly LOCK_FILE="$BACKUP_DIR/etc/maintenance.lock"
readonly STATUS_FILE="$BACKUP_DIR/status.json"
readonly BACKUP_SERVICE=backup
readonly EXIT_BUSY=75
readonly START_WAIT_SECONDS=60

COMPOSE=()
TRACKER_SERVICE=""
MODE=stop
TIMEOUT_SECONDS=3600
STOP_TIMEOUT=10
STAMP=""
STARTED_AT=""
TRACKER_STOPPED=false
STOPPED_AT_MS=0
DOWNTIME_MS=0
CONTAINER=""
RESULT=failed

now_ms() {
  date +%s%3N
}

seconds() {
  printf '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100))
}

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

logged() {
  "$@" 2>&1 | relay_output
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
  STOPPED_AT_MS="$(now_ms)"
  # Marked before the stop: if it fails halfway, the exit trap still starts the tracker.
  TRACKER_STOPPED=true
  logged "${COMPOSE[@]}" stop -t "$STOP_TIMEOUT" "$TRACKER_SERVICE" \
    || die "could not stop the tracker service '$TRACKER_SERVICE'"
  log INFO "Tracker stopped successfully"
}

start_tracker() {
  local waited=0
  log INFO "Starting tracker container..."
  if ! logged "${COMPOSE[@]}" start "$TRACKER_SERVICE"; then
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
  DOWNTIME_MS=$(($(now_ms) - STOPPED_AT_MS))
  log INFO "Tracker started successfully (down for $(seconds "$DOWNTIME_MS")s)"
}

# One step of the backup container, killed after TIMEOUT_SECONDS. Killing the compose
# client would not stop the container it started (and compose v1 ignores TERM while it
# waits on `run`), so a watchdog kills the container by name; compose then returns, and
# only if compose itself hangs is it killed too.
run_backup_container() {
  local step="$1" status=0 watchdog flag
  CONTAINER="tracker-backup-${STAMP}-${step}-$$"
  flag="$(mktemp)"
  watchdog_for "$BASHPID" "$flag" &
  watchdog=$!
  # -T: no TTY under cron; the profile keeps `up -d` from ever starting this service.
  logged "${COMPOSE[@]}" --profile backup run --rm -T --name "$CONTAINER" -e "BACKUP_STAMP=$STAMP" \
    "$BACKUP_SERVICE" "$step" || status=$?
  kill "$watchdog" 2>/dev/null || true
  wait "$watchdog" 2>/dev/null || true
  if [[ -s "$flag" ]]; then
    log ERROR "Backup container step '$step' timed out after ${TIMEOUT_SECONDS}s; killed it"
    status=124
  fi
  rm -f "$flag"
  remove_container
  return "$status"
}

watchdog_for() {
  local parent="$1" flag="$2" waited=0
  while ((waited < TIMEOUT_SECONDS)); do
    sleep 1
    waited=$((waited + 1))
  done
  echo timeout >"$flag"
  docker kill "$CONTAINER" >/dev/null 2>&1 || true
  sleep 15
  # Still here: compose itself hangs. Its process is the child of the step's shell.
  pkill -KILL -P "$parent" -f 'compose' 2>/dev/null || true
}

remove_container() {
  if [[ -n "$CONTAINER" ]]; then
    docker rm -f "$CONTAINER" >/dev/null 2>&1 || true
    CONTAINER=""
  fi
}

# status.json: what monitoring reads. Names and sizes come from the run's manifest, which
# exists only when every file of the run was written and verified.
write_status() {
  local code="$1" manifest="$BACKUP_DIR/manifests/manifest_$STAMP.sha256" sum path first=true
  local files="" tmp="$STATUS_FILE.partial"
  if [[ -f "$manifest" ]]; then
    while read -r sum path; do
      [[ "$first" == true ]] || files+=","
      first=false
      files+=$(printf '\n    {"path": "%s", "bytes": %d, "sha256": "%s"}' "$path" "$(stat -c %s "$BACKUP_DIR/$path")" "$sum")
    done <"$manifest"
  fi
  printf '{\n  "started": "%s",\n  "finished": "%s",\n  "stamp": "%s",\n  "mode": "%s",\n  "result": "%s",\n  "exit_code": %d,\n  "tracker_downtime_seconds": %s,\n  "files": [%s\n  ]\n}\n' \
    "$STARTED_AT" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$STAMP" "$MODE" "$RESULT" "$code" "$(seconds "$DOWNTIME_MS")" "$files" >"$tmp"
  mv -f "$tmp" "$STATUS_FILE"
}

# Runs on every exit, including failures and signals: the tracker must not stay down
# because a backup failed, and a killed run must not leave its container behind.
on_exit() {
  local code=$?
  trap - EXIT INT TERM
  remove_container
  if [[ "$TRACKER_STOPPED" == true ]]; then
    start_tracker || code=1
  fi
  if ((code != EXIT_BUSY)); then
    ((code == 0)) || RESULT=failed
    [[ -d "$BACKUP_DIR" ]] && { write_status "$code" || log ERROR "could not write $STATUS_FILE"; }
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

load_settings() {
  [[ -r "$CONFIG_FILE" ]] \
    || die "cannot read $PWD/$CONFIG_FILE: run this from the tracker's deploy directory (e.g. cd /opt/torrust)"
  load_config "$CONFIG_FILE"
  TRACKER_SERVICE="$(config TRACKER_SERVICE)"
  MODE="$(config MODE)"
  TIMEOUT_SECONDS="$(config TIMEOUT_SECONDS)"
  STOP_TIMEOUT="$(config STOP_TIMEOUT)"
  [[ "$MODE" == stop || "$MODE" == online ]] || die "MODE must be stop or online, not '$MODE'"
  [[ "$TIMEOUT_SECONDS" =~ ^[0-9]+$ && "$STOP_TIMEOUT" =~ ^[0-9]+$ ]] || die "TIMEOUT_SECONDS and STOP_TIMEOUT must be numbers"
}

main() {
  STAMP="$(date -u +%Y%m%d_%H%M%S)"
  STARTED_AT="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  trap on_exit EXIT
  trap 'exit 130' INT TERM
  require_tools docker flock timeout
  load_settings
  detect_compose
  acquire_lock

  if [[ "$MODE" == online ]]; then
    log INFO "Online mode: the tracker keeps running during the backup"
  elif tracker_running; then
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
  RESULT=success
  log INFO "Backup completed successfully"
}

main "$@"
