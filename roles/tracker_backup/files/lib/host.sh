# shellcheck shell=bash
# Globals below are also read and set by the scripts that source this file.
# shellcheck disable=SC2034
# Host-side helpers shared by maintenance-backup.sh and tracker-backup-restore.sh: compose
# detection, the tracker's stop/start, the lock, and running one step of the backup
# container with a deadline. Load lib.sh first. Callers run from the deploy directory.

readonly BACKUP_DIR=storage/backup
readonly CONFIG_FILE="$BACKUP_DIR/etc/backup.conf"
readonly LOCK_FILE="$BACKUP_DIR/etc/maintenance.lock"
readonly BACKUP_SERVICE=backup
readonly EXIT_BUSY=75
readonly START_WAIT_SECONDS=60

COMPOSE=()
TRACKER_SERVICE=""
MODE=stop
TIMEOUT_SECONDS=3600
STOP_TIMEOUT=10
STAMP=""
TRACKER_STOPPED=false
STOPPED_AT_MS=0
DOWNTIME_MS=0
CONTAINER=""
TRACKER_IDS=()

now_ms() {
  date +%s%3N
}

seconds() {
  printf '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100))
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

# stdin is closed: compose reads it, and would swallow the lines of a caller's loop.
logged() {
  "$@" 2>&1 </dev/null | relay_output
  return "${PIPESTATUS[0]}"
}

# Sets TRACKER_IDS to the service's running containers; true when there is one.
tracker_running() {
  local id
  TRACKER_IDS=()
  # v1 lists stopped containers too, so ask docker for each container's state.
  for id in $("${COMPOSE[@]}" ps -q "$TRACKER_SERVICE" 2>/dev/null); do
    [[ "$(docker inspect --format '{{.State.Running}}' "$id" 2>/dev/null)" == true ]] && TRACKER_IDS+=("$id")
  done
  ((${#TRACKER_IDS[@]} > 0))
}

# Every container in TRACKER_IDS is running.
tracker_back() {
  local state
  for state in $(docker inspect --format '{{.State.Running}}' "${TRACKER_IDS[@]}" 2>/dev/null || echo false); do
    [[ "$state" == true ]] || return 1
  done
}

# The containers tracker_running found are stopped and started by id with docker itself:
# the same operation as `compose stop`/`compose start` of the service, without starting a
# compose client (about 1 s each with v1) inside the downtime.
stop_tracker() {
  log INFO "Stopping tracker container..."
  STOPPED_AT_MS="$(now_ms)"
  # Marked before the stop: if it fails halfway, the exit trap still starts the tracker.
  TRACKER_STOPPED=true
  docker stop --time "$STOP_TIMEOUT" "${TRACKER_IDS[@]}" >/dev/null \
    || die "could not stop the tracker service '$TRACKER_SERVICE'"
  log INFO "Tracker stopped successfully"
}

start_tracker() {
  local waited=0
  log INFO "Starting tracker container..."
  # Should its container have been replaced meanwhile, compose starts the service instead.
  if ! docker start "${TRACKER_IDS[@]}" >/dev/null 2>&1 \
    && ! { logged "${COMPOSE[@]}" start "$TRACKER_SERVICE" && tracker_running; }; then
    log ERROR "could not start the tracker service '$TRACKER_SERVICE'"
    return 1
  fi
  until tracker_back; do
    if ((waited >= START_WAIT_SECONDS * 10)); then
      log ERROR "Tracker is not running ${START_WAIT_SECONDS}s after start"
      return 1
    fi
    sleep 0.1
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
# Usage: run_backup_container LABEL [compose run options...] -- [container args...]
run_backup_container() {
  local step="$1" status=0 watchdog flag
  local -a options=()
  shift
  while (($# > 0)) && [[ "$1" != -- ]]; do
    options+=("$1")
    shift
  done
  shift
  # Unique per Docker daemon: deployments sharing one (or containers with their own PID
  # namespaces, like the sandbox targets) may run the same step in the same second
  # with the same PID.
  CONTAINER="tracker-backup-$(printf '%s' "$PWD" | sha256sum | cut -c1-8)-${STAMP}-${step}-$$"
  flag="$(mktemp)"
  watchdog_for "$BASHPID" "$flag" &
  watchdog=$!
  # -T: no TTY under cron; the profile keeps `up -d` from ever starting this service.
  logged "${COMPOSE[@]}" --profile backup run --rm -T --name "$CONTAINER" "${options[@]}" \
    "$BACKUP_SERVICE" "$@" || status=$?
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

acquire_lock() {
  exec 9>>"$LOCK_FILE"
  # flock on an open descriptor: the kernel drops it when this process dies, so a killed
  # run never leaves a stale lock behind.
  if ! flock --nonblock 9; then
    log ERROR "Another backup is already running (lock $PWD/$LOCK_FILE is held); not starting a second one"
    exit "$EXIT_BUSY"
  fi
}

