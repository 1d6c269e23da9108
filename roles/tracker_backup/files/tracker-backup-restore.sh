#!/usr/bin/env bash
# tracker-backup-restore.sh: put a backup back, or show what that would do.
#
# Installed by the tracker_backup role at /usr/local/bin; run it as root from the
# tracker's compose project directory:
#   cd /opt/torrust && tracker-backup-restore.sh [--from local|offsite] [--at YYYYMMDD_HHMMSS|latest] [--only database|config] [--yes] [--json]
# (`tracker-backup restore ...` runs this script.) With --json the log lines go to stderr
# and stdout is one JSON document, the plan or the result (tracker-backup.restore.v1).
# Without --yes it only prints the plan. With --yes it verifies the chosen files against
# their manifest (a corrupt backup is refused before anything is touched; a legacy
# backup, one with no manifest such as the deployer's, gets the checks that need none:
# decompression test, SQLite quick_check, the dump's completion line), takes the
# lock, and restores. SQLite: decompresses and checks the backup, archives the current
# config and puts the backup's config in place while the tracker runs, stops it only to
# keep the current database aside (a hard link) and rename the restored one into place,
# starts it, then publishes the safety backup. MySQL: stops the tracker, takes a safety
# backup, restores, starts it. If a step fails once something was replaced, the previous
# state is put back, the tracker started again if it was running, and it exits 1.
# --from offsite: the off-site snapshot (the newest of this host, or the one of --at's
# stamp) is fetched by the backup image into a root-only directory of the store, checked
# and made a backup set with a manifest; the plan and checks are then those of a local
# backup, and with --yes the set joins the store as backup <stamp> and is restored as one.
#
# Exit codes: 0 restored (or plan shown); 1 refused or failed; 2 usage error; 75 a backup
# or restore holds the lock.
set -euo pipefail
umask 077
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH

# shellcheck source=SCRIPTDIR/lib/lib.sh
source /usr/local/lib/tracker-backup/lib.sh
# shellcheck source=SCRIPTDIR/lib/layout.sh
source /usr/local/lib/tracker-backup/layout.sh
# shellcheck source=SCRIPTDIR/lib/host.sh
source /usr/local/lib/tracker-backup/host.sh
# shellcheck source=SCRIPTDIR/lib/store.sh
source /usr/local/lib/tracker-backup/store.sh

AT=latest
FROM=local
ONLY=all
# Where the chosen backup's files are read: the store, or the set fetched from off-site
# (OFFSITE_WORK, store.sh) until --yes publishes it into the store.
STORE="$BACKUP_DIR"
SNAPSHOT=""
YES=false
DRIVER=""
SAFETY=""
PHASE=plan
# The root-only directory (under the backups) a SQLite restore stages its files in.
RESTORE_STAGE=""
# A safety copy of the database is staged and not yet published.
SAFETY_COPY=false
# What a SQLite restore has begun to replace (and a failure puts back).
CONFIG_CHANGED=false
DATABASE_CHANGED=false
CHOSEN=""

usage() {
  sed -n '2,26p' "$0" >&2
  exit 2
}

parse_args() {
  while (($# > 0)); do
    case "$1" in
      --at)
        (($# > 1)) || usage
        AT="$2"
        shift 2
        ;;
      --only)
        (($# > 1)) || usage
        ONLY="$2"
        shift 2
        ;;
      --from)
        (($# > 1)) || usage
        FROM="$2"
        shift 2
        ;;
      --yes) YES=true && shift ;;
      --json) JSON=true && shift ;;
      -h | --help) usage ;;
      *)
        log ERROR "unknown argument: $1"
        usage
        ;;
    esac
  done
  [[ "$AT" == latest || "$AT" =~ ^[0-9]{8}_[0-9]{6}$ ]] || { log ERROR "--at takes YYYYMMDD_HHMMSS or latest"; exit 2; }
  [[ "$ONLY" == all || "$ONLY" == database || "$ONLY" == config ]] || { log ERROR "--only takes database or config"; exit 2; }
  [[ "$FROM" == local || "$FROM" == offsite ]] || { log ERROR "--from takes local or offsite"; exit 2; }
}

# The kind of the database's backups (layout.sh: sqlite or mysql).
database_kind() {
  [[ -n "$DRIVER" && -n "${LAYOUT_DRIVER_KIND[$DRIVER]+set}" ]] || die "unknown DATABASE_DRIVER: $DRIVER"
  printf '%s' "${LAYOUT_DRIVER_KIND[$DRIVER]}"
}

# Every name a backup of KIND taken at STAMP may have, one a line, one per compression in
# layout.sh's order. Usage: names_of KIND STAMP
names_of() {
  local compression
  for compression in "${LAYOUT_COMPRESSIONS[@]}"; do
    layout_name "$1" "$2" "$compression"
    printf '\n'
  done
}

# Whether --only selects backups of KIND.
wanted() {
  case "$ONLY" in
    database) [[ "$1" != config ]] ;;
    config) [[ "$1" == config ]] ;;
    *) return 0 ;;
  esac
}

# A run with no manifest: a backup this tool did not take (the deployer's own), found by
# its name alone.
is_legacy() {
  [[ ! -e "$STORE/manifests/manifest_$1.sha256" ]]
}

# The files of a run that --only selects, as listed in its manifest, or for a legacy run
# the regular files of its stamp's names (the first compression's, if there are several).
selected_files() {
  local stamp="$1" manifest="$STORE/manifests/manifest_$1.sha256" path kind database
  database="$(database_kind)"
  if is_legacy "$stamp"; then
    for kind in "$database" config; do
      wanted "$kind" || continue
      while IFS= read -r path; do
        if [[ -f "$STORE/$path" && ! -L "$STORE/$path" ]]; then
          printf '%s\n' "$path"
          break
        fi
      done < <(names_of "$kind" "$stamp")
    done
    return 0
  fi
  while read -r _ path; do
    if layout_parse "$path" && [[ "$LAYOUT_STAMP_OF" == "$stamp" ]] \
      && [[ "$LAYOUT_KIND" == "$database" || "$LAYOUT_KIND" == config ]] && wanted "$LAYOUT_KIND"; then
      printf '%s\n' "$path"
    fi
  done <"$manifest"
}

# Every stamp there is a run for: from the manifests and from the backup files' names.
known_stamps() {
  {
    find "$BACKUP_DIR/manifests" -maxdepth 1 -type f -name 'manifest_*.sha256' -printf '%f\n'
    find "${LAYOUT_KINDS[@]/#/$BACKUP_DIR/}" -maxdepth 1 -type f -printf '%f\n'
  } 2>/dev/null | sed -nE 's/^[a-z]+_([0-9]{8}_[0-9]{6})\..*$/\1/p' | LC_ALL=C sort -ru
}

resolve_stamp() {
  local stamp
  if [[ "$AT" != latest ]]; then
    printf '%s' "$AT"
    return 0
  fi
  # Newest first; the newest run that has what --only asks for.
  while IFS= read -r stamp; do
    if [[ -n "$(selected_files "$stamp")" ]]; then
      printf '%s' "$stamp"
      return 0
    fi
  done < <(known_stamps)
  die "no backup found in $PWD/$BACKUP_DIR"
}

# --from offsite: this host's snapshot (the newest, or --at's) fetched, checked and made
# backup <stamp> in OFFSITE_WORK by the backup image, read from there (STORE) until
# publish_fetched moves it into the store. A stamp the store has already is refused:
# the local backup of that run is the same and is restored without --from offsite.
fetch_offsite() {
  local pick
  [[ -f "$BACKUP_DIR/etc/offsite/repository" ]] || die "--from offsite: no off-site repository is configured (backup.offsite)"
  log INFO "Reading the off-site snapshots of $(config OFFSITE_HOST)..."
  offsite_container offsite-list offsite-snapshots || die "Off-site snapshots could not be listed: $OFFSITE_MESSAGE; nothing was changed"
  pick="$(offsite_snapshots pick "$AT")" \
    || die "no off-site snapshot of $(config OFFSITE_HOST)$([[ "$AT" == latest ]] || printf ' with stamp %s' "$AT"); nothing was changed"
  SNAPSHOT="${pick%% *}"
  CHOSEN="${pick#* }"
  if [[ $'\n'"$(known_stamps)"$'\n' == *$'\n'"$CHOSEN"$'\n'* ]]; then
    die "backup $CHOSEN is in the local store too: restore it from there (--at $CHOSEN, without --from offsite); nothing was changed"
  fi
  log INFO "Fetching off-site snapshot ${SNAPSHOT:0:8} (backup $CHOSEN) and checking it..."
  offsite_container offsite-fetch offsite-fetch "$SNAPSHOT" "$CHOSEN" \
    || die "Off-site snapshot ${SNAPSHOT:0:8} could not be fetched: $OFFSITE_MESSAGE; nothing was changed"
  STORE="$OFFSITE_WORK"
}

# With the lock held, the fetched set (every file of its manifest, the manifest last)
# renamed into the store, where the restore reads it as backup CHOSEN.
publish_fetched() {
  local path manifest
  manifest="$(layout_manifest "$CHOSEN")"
  while read -r _ path; do
    [[ ! -e "$BACKUP_DIR/$path" ]] || die "$PWD/$BACKUP_DIR/$path appeared meanwhile; not replacing it"
    mv -T -- "$STORE/$path" "$BACKUP_DIR/$path" || die "cannot move $path into the store"
  done <"$STORE/$manifest"
  mv -T -- "$STORE/$manifest" "$BACKUP_DIR/$manifest" || die "cannot move $manifest into the store"
  STORE="$BACKUP_DIR"
  log INFO "Off-site snapshot ${SNAPSHOT:0:8} is backup $CHOSEN in the local store"
}

# No checksum was recorded for a legacy backup; each file gets the checks the backup
# image can run without one, and the plan lists them.
check_legacy_files() {
  local stamp="$1" path
  shift
  local -a checks=()
  log WARN "Backup $stamp has no manifest (a legacy backup, not taken by this tool): no checksum to verify; running the checks that need none"
  for path in "$@"; do
    run_backup_container check -- check-legacy "$path" \
      || die "legacy backup $path failed its checks: refusing to restore backup $stamp; nothing was changed"
    case "$path" in
      sqlite/*) checks+=("$path: decompression test, SQLite quick_check") ;;
      mysql/*) checks+=("$path: decompression test, dump completion line") ;;
      config/*) checks+=("$path: decompression test, archive paths under data/storage/") ;;
    esac
  done
  log INFO "Checks run on legacy backup $stamp (no checksum, no manifest): $(IFS=';' && printf '%s' "${checks[*]}" | sed 's/;/; /g')"
}

verify_files() {
  local stamp="$1" manifest="manifests/manifest_$1.sha256" path
  local -a files=()
  mapfile -t files < <(selected_files "$stamp")
  ((${#files[@]} > 0)) || die "backup $stamp has nothing to restore for --only $ONLY (no such files in $PWD/$STORE)"
  if is_legacy "$stamp"; then
    check_legacy_files "$stamp" "${files[@]}"
    return 0
  fi
  for path in "${files[@]}"; do
    if ! (cd "$STORE" && grep -F "  $path" "$manifest" | sha256sum --check --status); then
      die "checksum of $path does not match its manifest: refusing to restore backup $stamp; nothing was changed"
    fi
  done
  log INFO "Checksums verified for backup $stamp: ${files[*]}"
}

show_plan() {
  local stamp="$1" path
  while IFS= read -r path; do
    case "$path" in
      sqlite/*) log INFO "Would restore $path over $(config SQLITE_PATH) ($(stat -c %s "$(config SQLITE_PATH)" 2>/dev/null || echo 0) bytes now)" ;;
      mysql/*) log INFO "Would load $path into MySQL database $(config MYSQL_DATABASE) on $(config MYSQL_HOST), replacing its tables" ;;
      # GNU tar picks gzip or zstd from the suffix; the host may lack zstd.
      config/*) log INFO "Would extract $path over: $(tar -tf "$STORE/$path" 2>/dev/null | grep -v '/$' | { if is_legacy "$stamp"; then sed 's,^data/,,'; else cat; fi; } | tr '\n' ' ' || echo "(contents listed by the backup image at restore)")" ;;
    esac
  done < <(selected_files "$stamp")
}

# Puts one run's selected files back. The deploy directory is mounted read-write only
# for these container runs. The container gets each file's exact path, the one whose
# checksum verify_files checked, not the stamp to look it up by.
restore_run() {
  local stamp="$1" path
  while IFS= read -r path; do
    case "$path" in
      sqlite/*) run_backup_container restore -v "$PWD:/restore" -- restore-sqlite "$path" ;;
      mysql/*) run_backup_container restore -- restore-mysql "$path" ;;
      config/*)
        if is_legacy "$stamp"; then
          run_backup_container restore -v "$PWD:/restore" -- restore-config "$path" --legacy
        else
          run_backup_container restore -v "$PWD:/restore" -- restore-config "$path"
        fi
        ;;
    esac || return 1
  done < <(selected_files "$stamp")
}

# MySQL: the safety dump is taken while the tracker is stopped, so that it holds every
# write up to the stop: a failed restore is undone by loading it, and a dump taken before
# the stop would lose the writes made after it.
take_safety_backup() {
  SAFETY="$STAMP"
  log INFO "Taking a safety backup of the current state as $SAFETY..."
  run_backup_container safety -e "BACKUP_STAMP=$SAFETY" -- snapshot || return 1
  run_backup_container safety -e "BACKUP_STAMP=$SAFETY" -e BACKUP_PRUNE=no -- finish || return 1
  log INFO "Safety backup $SAFETY taken"
}

# SQLite: everything but the swap happens while the tracker runs. Before the stop, the
# backup is decompressed and checked into a root-only staging directory, the current
# config archived as the safety backup's config archive, and the backup's config files
# put in place (the tracker reads them only when it starts). While the tracker is
# stopped, the current database gets a second name in the backups' staging directory (a
# hard link: the restore replaces the live file by rename, so the old file stays intact
# under that name) and the staged database is renamed into place. The safety backup is
# compressed, verified and published once the tracker runs again.
prepare_restore() {
  local stamp="$1"
  local -a files=() legacy=()
  mapfile -t files < <(selected_files "$stamp")
  ! is_legacy "$stamp" || legacy=(--legacy)
  SAFETY="$STAMP"
  RESTORE_STAGE="$(mktemp -d "$BACKUP_DIR/.restore-XXXXXXXX")" || return 1
  log INFO "Preparing the restore while the tracker runs: decompressing and checking ${files[*]}, archiving the current config as safety backup $SAFETY..."
  run_backup_container stage -e "BACKUP_STAMP=$SAFETY" -- stage "${RESTORE_STAGE##*/}" "${legacy[@]}" "${files[@]}" || return 1
  mkdir -p -- "$BACKUP_DIR/$LAYOUT_STAGING/$SAFETY" || return 1
}

# The file of KIND (sqlite or config) among the run's selected files, if any.
selected_path() {
  local stamp="$1" kind="$2" path
  while IFS= read -r path; do
    [[ "$path" != "$kind/"* ]] || { printf '%s' "$path" && return 0; }
  done < <(selected_files "$stamp")
}

install_config() {
  local stamp="$1" path
  path="$(selected_path "$stamp" config)"
  [[ -n "$path" ]] || return 0
  CONFIG_CHANGED=true
  install_tree "$PWD/$RESTORE_STAGE/tree" "$(basename -- "$path")"
}

# The safety copy of the stopped database (and of a journal or WAL an unclean stop left).
# When the restore replaces the database, each is a second name for the file (or a copy
# where the backups are on another filesystem); with --only config the tracker goes on
# writing the same file, so it is a copy. Only regular files: the database directory is
# writable from the tracker's container.
link_safety_copy() {
  local database safety link=true
  database="$(config SQLITE_PATH)"
  safety="$PWD/$BACKUP_DIR/$LAYOUT_STAGING/$SAFETY/database.db"
  [[ "$ONLY" != config ]] || link=false
  (
    local name extension
    enter_restore_dir "$(dirname -- "$database")"
    name="$(basename -- "$database")"
    [[ -e "$name" || -L "$name" ]] || die "SQLite database not found at $PWD/$database"
    for extension in "" -journal -wal; do
      [[ -e "$name$extension" || -L "$name$extension" ]] || continue
      [[ -f "$name$extension" && ! -L "$name$extension" ]] \
        || die "$PWD/$name$extension is a symbolic link or not a regular file; not copying it"
      { [[ "$link" == true ]] && ln -T -- "$name$extension" "$safety$extension" 2>/dev/null; } \
        || cp -P -T -- "$name$extension" "$safety$extension" \
        || die "cannot take a safety copy of $name$extension"
      [[ -f "$safety$extension" && ! -L "$safety$extension" ]] \
        || die "$name$extension was replaced while its safety copy was taken; not using it"
    done
  ) || return 1
  # From here until it is published, a backup run clearing the staging directory keeps it.
  : >"$BACKUP_DIR/$LAYOUT_STAGING/$SAFETY/$LAYOUT_SAFETY_MARK" || return 1
  SAFETY_COPY=true
  log INFO "Safety copy of $database taken (published as safety backup $SAFETY once the tracker runs again)"
}

install_database() {
  local stamp="$1" path
  path="$(selected_path "$stamp" sqlite)"
  [[ -n "$path" ]] || return 0
  DATABASE_CHANGED=true
  install_sqlite "$PWD/$RESTORE_STAGE/database.db" "$(config SQLITE_PATH)" "$(basename -- "$path")"
}

# A failed restore, with the tracker stopped: the database is copied back from the safety
# copy (not linked: the tracker will write to the live file, and the safety copy must
# stay as it was until it is published) with the journal it had, and the config from
# the safety archive taken before any file was replaced.
put_back_sqlite() {
  local database safety archive status=0
  local -a archives=()
  database="$(config SQLITE_PATH)"
  safety="$PWD/$BACKUP_DIR/$LAYOUT_STAGING/$SAFETY/database.db"
  if [[ "$DATABASE_CHANGED" == true ]]; then
    (
      local name extension
      enter_restore_dir "$(dirname -- "$database")"
      name="$(basename -- "$database")"
      # Not -shm: SQLite rebuilds it when the first connection opens the database.
      for extension in "" -journal -wal; do
        if [[ -f "$safety$extension" ]]; then
          install_here "$safety$extension" "$name$extension"
        else
          rm -f -- "$name$extension" || die "cannot remove $name$extension"
        fi
      done
    ) || status=1
  fi
  if [[ "$CONFIG_CHANGED" == true ]]; then
    mapfile -t archives < <(names_of config "$SAFETY")
    for archive in "${archives[@]}"; do
      [[ -f "$BACKUP_DIR/$archive" ]] || continue
      run_backup_container restore -v "$PWD:/restore" -- restore-config "$archive" || status=1
    done
  fi
  return "$status"
}

# Once the tracker runs: the safety copy compressed, checked and listed in a manifest
# with the config archive, as backup SAFETY. Should that fail, the copy is kept, outside
# the staging directory that the next backup clears.
publish_safety() {
  local kept="$BACKUP_DIR/${LAYOUT_UNPUBLISHED_SAFETY}_$SAFETY"
  SAFETY_COPY=false
  log INFO "Publishing safety backup $SAFETY (compress, verify, manifest)..."
  if run_backup_container safety -e "BACKUP_STAMP=$SAFETY" -e BACKUP_PRUNE=no -- finish; then
    log INFO "Safety backup $SAFETY taken"
    return 0
  fi
  if mv -T -- "$BACKUP_DIR/$LAYOUT_STAGING/$SAFETY" "$kept"; then
    log ERROR "Safety backup $SAFETY could not be published; the previous database is kept uncompressed in $PWD/$kept"
  else
    log ERROR "Safety backup $SAFETY could not be published; the previous database is in $PWD/$BACKUP_DIR/$LAYOUT_STAGING/$SAFETY until the next backup"
  fi
  return 1
}

# The plan or the result as one JSON document on descriptor 3: restore_json EXIT_CODE
restore_json() {
  local code="$1" result=failed path listed="" safety=null chosen=null snapshot=null
  local -a paths=()
  if ((code == 0)); then
    if [[ "$YES" == true ]]; then result=restored; else result=planned; fi
  elif ((code == EXIT_BUSY)); then
    result=busy
  fi
  if [[ -n "$CHOSEN" ]]; then
    chosen="$(json_str "$CHOSEN")"
    mapfile -t paths < <(selected_files "$CHOSEN" 2>/dev/null || true)
  fi
  for path in "${paths[@]}"; do
    listed+="${listed:+, }$(json_str "$path")"
  done
  [[ -z "$SAFETY" ]] || safety="$(json_str "$SAFETY")"
  [[ -z "$SNAPSHOT" ]] || snapshot="$(json_str "$SNAPSHOT")"
  printf '{\n  "schema": "tracker-backup.restore.v1",\n  "from": %s,\n  "snapshot": %s,\n  "at": %s,\n  "only": %s,\n  "yes": %s,\n  "stamp": %s,\n  "files": [%s],\n  "safety_backup": %s,\n  "result": "%s",\n  "exit_code": %d\n}\n' \
    "$(json_str "$FROM")" "$snapshot" "$(json_str "$AT")" "$(json_str "$ONLY")" "$YES" "$chosen" "$listed" "$safety" "$result" "$code" >&3
}

on_exit() {
  local code=$?
  local -a archives=()
  trap - EXIT INT TERM
  end_step
  if [[ "$PHASE" == restoring && "$DRIVER" == mysql && -n "$SAFETY" ]]; then
    log ERROR "Restore failed; putting the safety backup $SAFETY back"
    if restore_run "$SAFETY"; then
      log WARN "Previous state restored from safety backup $SAFETY"
    else
      log ERROR "Putting the safety backup back failed too; restore $SAFETY by hand"
    fi
    code=1
  elif [[ "$DATABASE_CHANGED" == true || "$CONFIG_CHANGED" == true ]] && [[ "$PHASE" != finished ]]; then
    log ERROR "Restore failed; putting the previous state back from the safety copy $SAFETY"
    if put_back_sqlite; then
      log WARN "Previous state restored from the safety copy $SAFETY"
      DATABASE_CHANGED=false
      CONFIG_CHANGED=false
    else
      log ERROR "Putting the safety copy back failed too; restore $SAFETY by hand"
    fi
    code=1
  fi
  if [[ "$TRACKER_STOPPED" == true ]]; then
    start_tracker || code=1
  fi
  if [[ "$SAFETY_COPY" == true ]]; then
    publish_safety || code=1
  elif [[ "$DRIVER" == sqlite3 && -n "$SAFETY" && "$CONFIG_CHANGED" == false ]]; then
    # Nothing was changed (or all of it was put back) and no safety copy was taken:
    # what the preparation published or staged goes.
    rm -rf -- "${BACKUP_DIR:?}/$LAYOUT_STAGING/$SAFETY"
    mapfile -t archives < <(names_of config "$SAFETY")
    rm -f -- "${archives[@]/#/$BACKUP_DIR/}"
  fi
  [[ -z "$RESTORE_STAGE" ]] || rm -rf -- "$RESTORE_STAGE"
  printf '[%s] Restore completed (exit code: %d)\n' "$(date -u '+%Y-%m-%d %H:%M:%S')" "$code"
  [[ "$JSON" != true ]] || restore_json "$code"
  [[ -z "$OFFSITE_WORK" ]] || rm -rf -- "$OFFSITE_WORK"
  exit "$code"
}

# Until the restore proper begins (on_exit): the plan's container step and the set
# fetched from off-site do not outlive the script.
on_plan_exit() {
  local code=$?
  trap - EXIT INT TERM
  end_step
  [[ "$JSON" != true ]] || restore_json "$code"
  [[ -z "$OFFSITE_WORK" ]] || rm -rf -- "$OFFSITE_WORK"
  exit "$code"
}

main() {
  local stamp
  parse_args "$@"
  [[ "$JSON" != true ]] || exec 3>&1 1>&2
  trap on_plan_exit EXIT
  trap 'exit 130' INT TERM
  require_tools docker flock timeout sha256sum tar
  load_settings
  detect_compose
  DRIVER="$(config DATABASE_DRIVER)"
  if [[ "$FROM" == offsite ]]; then
    fetch_offsite
    stamp="$CHOSEN"
  else
    stamp="$(resolve_stamp)"
    CHOSEN="$stamp"
  fi
  log INFO "Backup chosen: $stamp ($([[ "$FROM" == local ]] || printf -- '--from offsite, ')--at $AT, --only $ONLY)"
  verify_files "$stamp"
  show_plan "$stamp"
  if [[ "$YES" != true ]]; then
    log INFO "Dry run: nothing was changed. Run again with --yes to restore."
    return 0
  fi

  STAMP="$(date -u +%Y%m%d_%H%M%S)"
  # Where lib.sh's install_* write: the deploy directory.
  RESTORE="$PWD"
  trap on_exit EXIT
  trap 'exit 130' INT TERM
  acquire_lock
  [[ "$FROM" != offsite ]] || publish_fetched
  remove_leftover_containers
  start_tracker_left_stopped
  # Left by a restore that was killed outright; the lock says none is running.
  find "$BACKUP_DIR" -mindepth 1 -maxdepth 1 -name '.restore-*' -type d -exec rm -rf -- {} +
  # And by a `list --offsite` or off-site restore killed outright (one a day old is no
  # live command's: those take minutes, and they run without the lock).
  find "$BACKUP_DIR" -mindepth 1 -maxdepth 1 -name '.offsite-get-*' -type d -mmin +1440 -exec rm -rf -- {} +
  local was_running=false
  if [[ "$DRIVER" == sqlite3 ]]; then
    prepare_restore "$stamp" || die "could not prepare the restore of backup $stamp; nothing was changed"
    PHASE=restoring
    install_config "$stamp" || die "restoring the config files of backup $stamp failed"
    if tracker_running; then
      was_running=true
      stop_tracker
    fi
    link_safety_copy || die "could not take a safety copy of the database; the database was not restored"
    install_database "$stamp" || die "restoring the database of backup $stamp failed"
  else
    if tracker_running; then
      was_running=true
      stop_tracker
    fi
    take_safety_backup || die "could not take a safety backup; nothing was restored"
    PHASE=restoring
    restore_run "$stamp" || die "restoring backup $stamp failed"
  fi
  if [[ "$was_running" == true ]]; then
    start_tracker || die "the tracker did not start after the restore"
  else
    log WARN "Tracker was not running before the restore; it is left stopped"
  fi
  PHASE=finished
  log INFO "Restored backup $stamp"
  if [[ "$SAFETY_COPY" == true ]]; then
    publish_safety || exit 1
  fi
}

main "$@"
