# shellcheck shell=bash
# Globals below are also read and set by the scripts that source this file.
# shellcheck disable=SC2034
# Host-side helpers shared by maintenance-backup.sh and tracker-backup-restore.sh: compose
# detection, the tracker's stop/start, the lock, and running one step of the backup
# container with a deadline. Load lib.sh first. Callers run from the deploy directory.

readonly BACKUP_DIR=storage/backup
readonly CONFIG_FILE="$BACKUP_DIR/etc/backup.conf"
readonly LOCK_FILE="$BACKUP_DIR/etc/maintenance.lock"
# Holds the ids of the tracker containers a run stopped, until it starts them again.
readonly STOPPED_MARKER="$BACKUP_DIR/etc/tracker-stopped-by-backup"
readonly BACKUP_SERVICE=backup
readonly EXIT_BUSY=75
readonly START_WAIT_SECONDS=60

COMPOSE=()
# Set by load_settings from backup.conf, where every one is required (settings.tsv).
TRACKER_SERVICE=""
MODE=""
TIMEOUT_SECONDS=""
STOP_TIMEOUT=""
STOP_SIGNAL=""
STAMP=""
TRACKER_STOPPED=false
STOPPED_AT_MS=0
DOWNTIME_MS=0
CONTAINER=""
STEP_PID=""
RELAY_PID=""
LOCK_HELD=false
TRACKER_IDS=()

now_ms() {
  date +%s%3N
}

seconds() {
  printf '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100))
}

# The settings spec (settings.tsv, generated from the environment schema) next to this file.
SETTINGS_SPEC="${BASH_SOURCE[0]%/*}/settings.tsv"
readonly SETTINGS_SPEC

# What a spec line allows, for the log: allowed TYPE RULE
allowed() {
  case "$1" in
    int) printf 'a whole number from %s to %s' "${2%..*}" "${2#*..}" ;;
    enum) printf 'one of %s' "${2//|/ }" ;;
    relpath) printf 'a relative path without a .. component or control characters' ;;
    text) printf 'non-empty text without control characters' ;;
  esac
}

# True when VALUE is of TYPE under RULE: valid TYPE RULE VALUE
valid() {
  local type="$1" rule="$2" value="$3"
  [[ -n "$value" && ! "$value" =~ [[:cntrl:]] ]] || return 1
  case "$type" in
    # At most 10 digits and no leading zero: the comparison stays in bash's 64 bits, and
    # the value means the same to every reader.
    int) [[ "$value" =~ ^(0|[1-9][0-9]{0,9})$ ]] && ((value >= ${rule%..*} && value <= ${rule#*..})) ;;
    enum) [[ "$value" != *'|'* && "|$rule|" == *"|$value|"* ]] ;;
    relpath) [[ "$value" != /* && ! "/$value/" =~ /\.\./ ]] ;;
    text) true ;;
    *) return 1 ;;
  esac
}

# A value as the log shows it: control characters escaped, at most 60 characters.
shown() {
  local value="${1:0:60}" out="" char i
  for ((i = 0; i < ${#value}; i++)); do
    char="${value:i:1}"
    if [[ "$char" =~ [[:cntrl:]] ]]; then
      printf -v char '\\x%02x' "'$char"
    fi
    out+="$char"
  done
  printf '%s' "$out"
}

# backup.conf against the spec: every listed key present and valid, no other key. The
# first problem stops the program with one line naming the key, the value and what is
# allowed, before anything is touched (backup.conf holds no secret).
check_settings() {
  local key type rule where="in $PWD/$CONFIG_FILE; nothing was done"
  local -a keys=()
  local -A listed=()
  [[ -r "$SETTINGS_SPEC" ]] || die "cannot read the settings spec $SETTINGS_SPEC"
  while IFS=$'\t' read -r key type rule; do
    [[ -z "$key" || "$key" == '#'* ]] && continue
    listed["$key"]=1
    keys+=("$key")
    [[ -n "${CONFIG[$key]+set}" ]] || die "$key is missing ($where); it must be $(allowed "$type" "$rule")"
    valid "$type" "$rule" "${CONFIG[$key]}" \
      || die "$key must be $(allowed "$type" "$rule"), not '$(shown "${CONFIG[$key]}")' ($where)"
  done <"$SETTINGS_SPEC"
  for key in "${!CONFIG[@]}"; do
    [[ -n "${listed[$key]+set}" ]] || die "$key is not a setting of backup.conf ($where); the settings are: ${keys[*]}"
  done
}

load_settings() {
  [[ -r "$CONFIG_FILE" ]] \
    || die "cannot read $PWD/$CONFIG_FILE: run this from the tracker's deploy directory (e.g. cd /opt/torrust)"
  load_config "$CONFIG_FILE"
  check_settings
  TRACKER_SERVICE="$(config TRACKER_SERVICE)"
  MODE="$(config MODE)"
  TIMEOUT_SECONDS="$(config TIMEOUT_SECONDS)"
  STOP_TIMEOUT="$(config STOP_TIMEOUT)"
  STOP_SIGNAL="$(config STOP_SIGNAL)"
}

# v2 (the plugin, as on Ubuntu hosts built by the deployer) is preferred; v1 names
# containers with underscores and reads `run` and `.env` a little differently, so the
# flavour goes into the log of every run, where a difference in behaviour can be traced.
detect_compose() {
  local version
  if version="$(docker compose version --short 2>/dev/null)"; then
    COMPOSE=(docker compose)
    log INFO "Using compose v2 (docker compose ${version:-unknown version})"
  elif command -v docker-compose >/dev/null 2>&1; then
    COMPOSE=(docker-compose)
    version="$(docker-compose version --short 2>/dev/null || true)"
    log INFO "Using compose v1 (docker-compose ${version:-unknown version})"
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

# Some container in TRACKER_IDS is still running.
tracker_any_running() {
  local state
  for state in $(docker inspect --format '{{.State.Running}}' "${TRACKER_IDS[@]}" 2>/dev/null); do
    [[ "$state" != true ]] || return 0
  done
  return 1
}

# The containers tracker_running found are stopped and started by id with docker itself:
# the same operation as `compose stop`/`compose start` of the service, without starting a
# compose client (about 1 s each with v1) inside the downtime.
# The stop sends STOP_SIGNAL first: torrust/tracker runs as PID 1 with no init and exits
# only on SIGINT (Ctrl-C), so `docker stop`'s SIGTERM is dropped and the tracker would be
# killed only when the grace period ends, some 10 s later. Only if the containers still
# run STOP_TIMEOUT seconds after the signal are they killed (`docker stop --time 0`).
stop_tracker() {
  local ids deadline
  log INFO "Stopping tracker container..."
  # On disk before the stop: should this run be killed before it starts the tracker
  # again, the next run finds the marker and does it (start_tracker_left_stopped).
  printf -v ids '%s\n' "${TRACKER_IDS[@]}"
  replace_file "$STOPPED_MARKER" "$ids" || die "could not record the tracker's stop; not stopping it"
  STOPPED_AT_MS="$(now_ms)"
  # Marked before the stop: if it fails halfway, the exit trap still starts the tracker.
  TRACKER_STOPPED=true
  deadline=$((STOPPED_AT_MS + STOP_TIMEOUT * 1000))
  # A container that exited meanwhile makes `docker kill` fail; the poll below decides.
  docker kill --signal "$STOP_SIGNAL" "${TRACKER_IDS[@]}" >/dev/null 2>&1 || true
  while tracker_any_running && (($(now_ms) < deadline)); do
    sleep 0.1
  done
  if tracker_any_running; then
    log WARN "Tracker still running ${STOP_TIMEOUT}s after $STOP_SIGNAL; killing it (docker stop --time 0)"
    docker stop --time 0 "${TRACKER_IDS[@]}" >/dev/null \
      || die "could not stop the tracker service '$TRACKER_SERVICE'"
  else
    log INFO "Tracker exited on $STOP_SIGNAL after $(seconds $(($(now_ms) - STOPPED_AT_MS)))s"
  fi
  log INFO "Tracker stopped successfully"
}

# Starts the containers in TRACKER_IDS and waits until they run.
bring_up_tracker() {
  local waited=0
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
}

start_tracker() {
  log INFO "Starting tracker container..."
  bring_up_tracker || return 1
  TRACKER_STOPPED=false
  DOWNTIME_MS=$(($(now_ms) - STOPPED_AT_MS))
  rm -f -- "$STOPPED_MARKER"
  log INFO "Tracker started successfully (down for $(seconds "$DOWNTIME_MS")s)"
}

# A run killed outright (kill -9, the OOM killer) while it had the tracker stopped could
# not start it again; its marker is left, and the next run or restore, once it holds the
# lock, starts the tracker instead. If that fails too the marker stays for the one after.
start_tracker_left_stopped() {
  [[ -f "$STOPPED_MARKER" && ! -L "$STOPPED_MARKER" ]] || return 0
  log WARN "An earlier backup or restore was killed while it had the tracker stopped; starting the tracker service '$TRACKER_SERVICE' again"
  mapfile -t TRACKER_IDS < <(grep -E '^[0-9a-f]{12,64}$' "$STOPPED_MARKER" || true)
  if bring_up_tracker; then
    rm -f -- "$STOPPED_MARKER"
    log INFO "Tracker started again"
  fi
}

# Names of this deploy directory's step containers start with this. Unique per Docker
# daemon: deployments sharing one (or containers with their own PID namespaces, like the
# sandbox targets) may run the same step in the same second with the same PID.
container_prefix() {
  printf 'tracker-backup-%s-' "$(printf '%s' "$PWD" | sha256sum | cut -c1-8)"
}

# One step of the backup container, ended after TIMEOUT_SECONDS. It runs in the
# background while the script waits for it: bash runs a trap only after a foreground
# command ends, so this way a TERM is handled at once and end_step stops the step.
# timeout(1) gives compose a process group of its own and KILLs all of it at the
# deadline (compose v1 ignores TERM while it waits on `run`, and its launcher has a
# child); the container compose started is then removed by name.
# Usage: run_backup_container LABEL [compose run options...] -- [container args...]
run_backup_container() {
  local step="$1" status=0 started="$SECONDS" relay
  local -a options=()
  shift
  while (($# > 0)) && [[ "$1" != -- ]]; do
    options+=("$1")
    shift
  done
  shift
  CONTAINER="$(container_prefix)${STAMP}-${step}-$$"
  # Compose's lines go through relay_output, as with `logged`.
  exec {relay}> >(relay_output)
  RELAY_PID=$!
  # -T: no TTY under cron; the profile keeps `up -d` from ever starting this service.
  timeout --signal=KILL --kill-after=10 "$TIMEOUT_SECONDS" \
    "${COMPOSE[@]}" --profile backup run --rm -T --name "$CONTAINER" "${options[@]}" "$BACKUP_SERVICE" "$@" \
    </dev/null >&"$relay" 2>&1 &
  STEP_PID=$!
  exec {relay}>&-
  wait "$STEP_PID" || status=$?
  STEP_PID=""
  wait "$RELAY_PID" || true
  RELAY_PID=""
  # Compose also returns 137 for a container killed from outside: the clock tells.
  if ((status == 137 && SECONDS - started >= TIMEOUT_SECONDS)); then
    log ERROR "Backup container step '$step' timed out after ${TIMEOUT_SECONDS}s; killed it"
    status=124
  fi
  remove_container
  return "$status"
}

# Runs on every exit: nothing of a step outlives the script, whatever ended it.
end_step() {
  if [[ -n "$STEP_PID" ]]; then
    # timeout passes the TERM on to compose and KILLs it 10 s later if need be; compose
    # returns as soon as its container is gone.
    kill -TERM "$STEP_PID" 2>/dev/null || true
    [[ -z "$CONTAINER" ]] || docker rm -f "$CONTAINER" >/dev/null 2>&1 || true
    wait "$STEP_PID" 2>/dev/null || true
    STEP_PID=""
    wait "$RELAY_PID" 2>/dev/null || true
    RELAY_PID=""
  fi
  # Again once compose is gone, in case it was still creating the container.
  remove_container
}

remove_container() {
  if [[ -n "$CONTAINER" ]]; then
    docker rm -f "$CONTAINER" >/dev/null 2>&1 || true
    CONTAINER=""
  fi
}

# With the lock held no step container of this deploy directory belongs to a live run:
# any there is was left by a run killed outright together with its compose client.
remove_leftover_containers() {
  local prefix name
  prefix="$(container_prefix)"
  for name in $(docker ps -a --filter "name=$prefix" --format '{{.Names}}' 2>/dev/null); do
    [[ "$name" == "$prefix"* ]] || continue
    log WARN "Removing container $name, left behind by an earlier backup or restore that was killed"
    docker rm -f "$name" >/dev/null 2>&1 || log ERROR "could not remove container $name"
  done
}

acquire_lock() {
  [[ ! -L "$LOCK_FILE" ]] || die "$PWD/$LOCK_FILE is a symlink; not following it"
  exec 9>>"$LOCK_FILE"
  # flock on an open descriptor: the kernel drops it when the last process holding it
  # ends (this one, or a step it started that is still writing), so a killed run never
  # leaves a stale lock behind.
  if ! flock --nonblock 9; then
    log ERROR "Another backup is already running (lock $PWD/$LOCK_FILE is held); not starting a second one"
    exit "$EXIT_BUSY"
  fi
  LOCK_HELD=true
}

