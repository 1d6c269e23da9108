# shellcheck shell=bash
# `tracker-backup run` (and maintenance-backup.sh, its name for cron and the guide): back
# up the tracker's database and config, stopping the tracker only while the database
# snapshot is taken. Run from the tracker's compose project; reads
# storage/backup/etc/backup.conf, works with `docker compose` (v2) and `docker-compose`
# (v1), starts the tracker again whatever happens to the backup (unless it was not running
# to begin with), and writes the run's outcome to storage/backup/status.json.
# Exit codes: 0 backup done; 1 backup failed (tracker restarted if it had been running);
# 75 another backup holds the lock (nothing done).
# Loaded by the tracker-backup program after lib.sh, layout.sh, host.sh and store.sh.

readonly STATUS_FILE="$BACKUP_DIR/$LAYOUT_STATUS"

STARTED_AT=""
RESULT=failed
# The off-site step's outcome (docs/offsite.md): status.json's "offsite" object, set by
# offsite_status once the run knows it.
OFFSITE_JSON=""
# yes when the store held no backup (no manifest) before this run: see backup.sh's
# offsite_rebuilt_host.
FIRST_BACKUP=no

# Usage: json_or_null VALUE [number]. A JSON string, a bare number, or null when empty.
json_or_null() {
  if [[ -z "$1" ]]; then printf 'null'; elif [[ "${2:-}" == number ]]; then printf '%d' "$1"; else json_str "$1"; fi
}

offsite_configured() {
  [[ -f "$BACKUP_DIR/etc/offsite/repository" && ! -L "$BACKUP_DIR/etc/offsite/repository" ]]
}

# Usage: offsite_status RESULT MESSAGE LAST_SUCCESS SNAPSHOT BYTES_ADDED CHECK CHECK_AT.
# Without a last success of its own, the run carries the previous status.json's over.
offsite_status() {
  local last="$3"
  if [[ -z "$last" && -f "$STATUS_FILE" ]]; then
    last="$(sed -n 's/.*"last_success": "\([0-9TZ:-]*\)".*/\1/p' "$STATUS_FILE" | head -n 1)"
  fi
  printf -v OFFSITE_JSON '{"result": %s, "message": %s, "last_success": %s, "snapshot": %s, "bytes_added": %s, "check": {"result": %s, "at": %s}}' \
    "$(json_str "$1")" "$(json_str "$2")" "$(json_or_null "$last")" "$(json_or_null "$4")" \
    "$(json_or_null "$5" number)" "$(json_str "$6")" "$(json_or_null "$7")"
}

# The off-site step never fails the run: its outcome is logged as a warning and recorded.
# The container's answer (.offsite-result) is KEY=value data, read, never sourced.
offsite_step() {
  local result_file="$BACKUP_DIR/$LAYOUT_OFFSITE_RESULT" key value
  local result=failed message="the off-site step gave no result" last="" snapshot="" added="" check=skipped check_at=""
  offsite_configured || return 0
  rm -f -- "$result_file"
  log INFO "Copying the backup off-site..."
  run_backup_container offsite -e "OFFSITE_FIRST_BACKUP=$FIRST_BACKUP" -- offsite "$STAMP" || true
  if [[ -f "$result_file" && ! -L "$result_file" ]]; then
    while IFS='=' read -r key value; do
      case "$key" in
        result) result="$value" ;;
        message) message="$value" ;;
        last_success) last="$value" ;;
        snapshot) snapshot="$value" ;;
        bytes_added) added="$value" ;;
        check) check="$value" ;;
        check_at) check_at="$value" ;;
      esac
    done <"$result_file"
    rm -f -- "$result_file"
  fi
  [[ "$added" =~ ^[0-9]*$ ]] || added=""
  if [[ "$result" == success ]]; then
    log INFO "Off-site copy done: $message"
  elif [[ "$result" != skipped ]]; then
    result=failed
    log WARN "Off-site copy failed: $message (the local backup is kept)"
  fi
  offsite_status "$result" "$message" "$last" "$snapshot" "$added" "$check" "$check_at"
}

# status.json: what monitoring reads, and `run --json`'s answer. Names and sizes come
# from the run's manifest, which exists only when every file of the run was written and
# verified. Sets STATUS_JSON. Usage: status_json EXIT_CODE
status_json() {
  local code="$1" manifest sum path first=true files=""
  manifest="$BACKUP_DIR/$(layout_manifest "$STAMP")"
  if [[ -f "$manifest" ]]; then
    while read -r sum path; do
      layout_parse "$path" || continue
      [[ "$first" == true ]] || files+=","
      first=false
      files+=$(printf '\n    {"kind": %s, "path": %s, "bytes": %d, "sha256": %s}' \
        "$(json_str "$LAYOUT_KIND")" "$(json_str "$path")" "$(stat -c %s "$BACKUP_DIR/$path")" "$(json_str "$sum")")
    done <"$manifest"
  fi
  printf -v STATUS_JSON '{\n  "started": %s,\n  "finished": "%s",\n  "stamp": %s,\n  "mode": %s,\n  "result": "%s",\n  "exit_code": %d,\n  "tracker_downtime_seconds": %s,\n  "files": [%s\n  ],\n  "offsite": %s\n}\n' \
    "$(json_str "$STARTED_AT")" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(json_str "$STAMP")" "$(json_str "$MODE")" "$RESULT" "$code" "$(seconds "$DOWNTIME_MS")" "$files" "$OFFSITE_JSON"
}

# A status that cannot be written whole keeps the last one: monitoring then sees a stale
# `finished`, never a truncated file. 0640 root:BACKUP_GID, like the backups it describes.
write_status() {
  replace_file "$STATUS_FILE" "$STATUS_JSON" "$(config BACKUP_GID)"
}

# With the tracker stopped nothing writes the file, so a plain copy is a consistent
# snapshot and the fastest one: downtime is one sequential read and write of the file,
# with no container to start. A journal or WAL left by an unclean stop is copied along;
# the container's finish step opens the copy, which recovers it, and checks it.
# The database directory is writable from the tracker's container: a link planted there
# (a -wal leading to a root-only file, say) would have root copy that file into the
# backup, so only regular files are copied.
copy_sqlite() {
  local source staged="$BACKUP_DIR/$LAYOUT_STAGING/$STAMP" extension file
  source="$(config SQLITE_PATH)"
  [[ -e "$source" || -L "$source" ]] || { log ERROR "SQLite database not found at $PWD/$source"; return 1; }
  for extension in "" -journal -wal; do
    file="$source$extension"
    if [[ -L "$file" ]] || [[ -e "$file" && ! -f "$file" ]]; then
      log ERROR "$PWD/$file is a symbolic link or not a regular file; not copying it"
      return 1
    fi
  done
  layout_clear_staging "$BACKUP_DIR"
  mkdir -p "$staged"
  for extension in "" -journal -wal; do
    [[ -z "$extension" || -e "$source$extension" || -L "$source$extension" ]] || continue
    # -R -P copy whatever is at the name by then as what it is (a link as a link, a FIFO
    # as a FIFO) without following or opening it; the check below refuses any such copy.
    cp -R -P -- "$source$extension" "$staged/database.db$extension" || return 1
    if [[ -L "$staged/database.db$extension" || ! -f "$staged/database.db$extension" ]]; then
      log ERROR "$PWD/$source$extension was replaced by something other than a regular file while it was copied; not using the copy"
      return 1
    fi
  done
  log INFO "SQLite database copied while the tracker is stopped ($(stat -c %s "$staged/database.db") bytes)"
}

# Runs on every exit, including failures and signals: the tracker must not stay down
# because a backup failed, and a killed run must not leave its container behind.
on_exit() {
  local code=$?
  trap - EXIT INT TERM
  end_step
  if [[ "$TRACKER_STOPPED" == true ]]; then
    start_tracker || code=1
  fi
  # Until the lock is held, the staging copy, the partial files and status.json may be
  # another run's: a run refused by the lock, or failing before it, leaves them alone.
  ((code != EXIT_BUSY)) || [[ "$LOCK_HELD" == true ]] || RESULT=busy
  if [[ "$LOCK_HELD" == true ]]; then
    if ((code != 0)); then
      # A container killed outright cannot clean up after itself; nothing half-written
      # stays behind, even under a hidden name.
      find "$BACKUP_DIR" -maxdepth 2 -name '.*.partial' -type f -delete 2>/dev/null || true
      layout_clear_staging "$BACKUP_DIR"
      RESULT=failed
    fi
  fi
  if [[ -z "$OFFSITE_JSON" ]]; then
    if offsite_configured; then
      offsite_status failed "not attempted: the local backup did not complete" "" "" "" skipped ""
    else
      offsite_status disabled "no off-site repository configured" "" "" "" skipped ""
    fi
  fi
  status_json "$code"
  # replace_file has logged why; the backup's own outcome stands.
  [[ "$LOCK_HELD" != true ]] || write_status || true
  printf '[%s] Backup maintenance completed (exit code: %d)\n' "$(date -u '+%Y-%m-%d %H:%M:%S')" "$code"
  notify_finish "$code"
  [[ "$JSON" != true ]] || printf '{\n  "schema": "tracker-backup.run.v1",%s' "${STATUS_JSON#\{}" >&3
  exit "$code"
}

# Usage: cmd_run [--json]
cmd_run() {
  parse_json_flag run "$@"
  STAMP="$(date -u +%Y%m%d_%H%M%S)"
  STARTED_AT="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  trap on_exit EXIT
  trap 'exit 130' INT TERM
  require_tools docker flock timeout
  load_settings
  acquire_lock
  compgen -G "$BACKUP_DIR/$LAYOUT_MANIFESTS/manifest_*.sha256" >/dev/null || FIRST_BACKUP=yes
  notify_start
  detect_compose
  remove_leftover_containers
  start_tracker_left_stopped

  if [[ "$MODE" == online ]]; then
    log INFO "Online mode: the tracker keeps running during the backup"
  elif tracker_running; then
    stop_tracker
  else
    log WARN "Tracker is not running; it will be left stopped after the backup"
  fi

  local copied=false
  if [[ "$MODE" == stop && "$(config DATABASE_DRIVER)" == sqlite3 ]]; then
    copy_sqlite || die "Backup failed: could not copy the SQLite database"
    copied=true
  else
    log INFO "Running backup container (via backup profile)..."
    run_backup_container snapshot -e "BACKUP_STAMP=$STAMP" -- snapshot || die "Backup failed: the database snapshot did not complete"
  fi
  if [[ "$TRACKER_STOPPED" == true ]]; then
    start_tracker || die "Backup snapshot taken but the tracker did not start again"
  fi
  # The guide's line announces the run's first container, whichever step that is.
  [[ "$copied" == false ]] || log INFO "Running backup container (via backup profile)..."
  run_backup_container finish -e "BACKUP_STAMP=$STAMP" -- finish || die "Backup failed: compressing, verifying or archiving did not complete"
  RESULT=success
  offsite_step
  log INFO "Backup completed successfully"
}

