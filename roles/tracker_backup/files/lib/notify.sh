# shellcheck shell=bash
# The run's alerts and metrics (docs/monitoring.md): notify_start when a run has the lock,
# notify_finish from on_exit. The work is notify.py's; this keeps the run's log for the
# ping's body. Loaded by the tracker-backup program after run.sh.

# Root-only (0600, from backup_dir/etc): the URL's path is the check's key.
readonly PING_URL_FILE="$BACKUP_DIR/etc/ping-url"

NOTIFY_LOG=""
NOTIFY_TEES=()

notify() {
  python3 "$LIB/notify.py" "$@" --url-file "$PING_URL_FILE" || log WARN "alerts and metrics: notify.py failed; the backup's result is unchanged"
}

# With a ping URL, everything the run prints from here on is also kept in a root-only
# temp file (the body of the last ping), and <url>/start is pinged.
notify_start() {
  [[ -f "$PING_URL_FILE" ]] || return 0
  # With the lock held, a log left here is from a run killed outright (SIGKILL).
  rm -f -- "$BACKUP_DIR"/etc/.run-log.*
  NOTIFY_LOG="$(mktemp "$BACKUP_DIR/etc/.run-log.XXXXXX")"
  exec {NOTIFY_STDOUT}>&1 {NOTIFY_STDERR}>&2
  exec > >(tee -a -- "$NOTIFY_LOG" >&"$NOTIFY_STDOUT")
  NOTIFY_TEES+=("$!")
  exec 2> >(tee -a -- "$NOTIFY_LOG" >&"$NOTIFY_STDERR")
  NOTIFY_TEES+=("$!")
  notify start
}

# Sends the last ping and, for a run that held the lock (the one status.json describes),
# writes the metrics. A run refused by the lock is another run's business: it does neither.
# A run that failed before taking the lock pings /fail. Usage: notify_finish EXIT_CODE
notify_finish() {
  local code="$1" pid metrics_dir=""
  [[ "$RESULT" != busy ]] || return 0
  [[ "$LOCK_HELD" != true ]] || metrics_dir="${CONFIG[METRICS_DIR]:-}"
  if ((${#NOTIFY_TEES[@]} > 0)); then
    # Closing the pipes and waiting for tee puts every line the run printed in the file.
    exec 1>&"$NOTIFY_STDOUT" 2>&"$NOTIFY_STDERR"
    for pid in "${NOTIFY_TEES[@]}"; do
      wait "$pid" || true
    done
  fi
  notify finish --code "$code" ${NOTIFY_LOG:+--log "$NOTIFY_LOG"} \
    ${metrics_dir:+--metrics-dir "$metrics_dir"} <<<"$STATUS_JSON"
  [[ -z "$NOTIFY_LOG" ]] || rm -f -- "$NOTIFY_LOG"
}
