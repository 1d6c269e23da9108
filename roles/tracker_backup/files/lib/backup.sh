#!/usr/bin/env bash
# backup.sh: entrypoint of the backup container (installed by the tracker_backup role).
#
#   backup.sh snapshot  consistent copy of the database into /backups/.staging/<stamp>/
#   backup.sh finish    check and compress it, archive the config files, apply retention
#   backup.sh all       both (what `docker compose run --rm backup` does)
#   backup.sh restore-sqlite FILE | restore-mysql FILE | restore-config FILE [--legacy]
#                       put a verified backup back, FILE as the restore script names it
#                       (e.g. sqlite/sqlite_<stamp>.db.zst); the restore script mounts the
#                       deploy directory read-write at /restore for this. --legacy: an
#                       archive of the deployer's, holding data/storage/... paths
#   backup.sh stage DIR [--legacy] FILE...
#                       the part of a restore that runs before the tracker stops: each
#                       FILE decompressed and checked into the staging directory DIR the
#                       restore script made in /backups; with BACKUP_STAMP, the safety
#                       archive of the current config too
#   backup.sh offsite STAMP
#                       copy the run's checked database and config archive to the restic
#                       repository in etc/offsite/, then forget/prune and (when due) check;
#                       writes .offsite-result for the run's status.json
#   backup.sh offsite-snapshots DIR | offsite-fetch DIR SNAPSHOT STAMP
#                       list this host's off-site snapshots, or fetch one as backup STAMP,
#                       into the work directory DIR the host program made in /backups
#   backup.sh check-legacy FILE
#                       the checks a backup without a manifest gets before a restore
#                       (decompression test; SQLite quick_check; the dump's completion
#                       line; the archive's paths); reads only, so it needs no lock
#
# In `stop` mode the maintenance script copies an SQLite file itself while the tracker is
# stopped (and runs `snapshot` for MySQL); `finish` runs once the tracker is up again, so
# the tracker is down only for the copy. Reads
# /backups/etc/backup.conf and /backups/etc/backup-paths.txt; the deploy directory is
# mounted read-only at /data.
set -euo pipefail
# Backups hold the tracker's database: nothing written here is for other users.
umask 077

# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=SCRIPTDIR/layout.sh
source "$(dirname "${BASH_SOURCE[0]}")/layout.sh"

# Overridable so the retention and naming rules can be tested outside a container.
BACKUPS="${TRACKER_BACKUP_BACKUPS_DIR:-/backups}"
DATA="${TRACKER_BACKUP_DATA_DIR:-/data}"
STAGING="$BACKUPS/$LAYOUT_STAGING"
readonly BACKUPS DATA STAGING
CONFIG_REFUSED=false
BACKUP_GID=0

readonly MYSQL_WAIT_SECONDS=30

now_epoch() {
  # Tests pin the clock; production never sets this.
  printf '%s' "${TRACKER_BACKUP_NOW:-$(date -u +%s)}"
}

human_size() {
  local bytes="$1"
  if ((bytes >= 1048576)); then
    printf '%d.%d MiB' $((bytes / 1048576)) $((bytes % 1048576 * 10 / 1048576))
  elif ((bytes >= 1024)); then
    printf '%d KiB' $((bytes / 1024))
  else
    printf '%d B' "$bytes"
  fi
}

# backup.compression: gzip keeps the guide's .gz names; zstd (.zst) is several times
# faster. Reading goes by a file's own suffix, so older backups restore after a switch.
# main() has checked COMPRESSION: a die inside $(suffix) would only end the subshell.
suffix() {
  printf '.%s' "${LAYOUT_SUFFIX[$(config COMPRESSION)]}"
}

# gzip: libdeflate's DEFLATE at gzip's default level 6 is 3 times as fast as zlib's and
# within 0.5 % of its size (bench/pipeline.sh). It holds its whole input and output in
# memory and uses one core, so the file is cut into pieces compressed on every core and
# written one after the other as gzip members: one .gz that gzip -d, gunzip and zcat read
# as one stream, whatever the database's size, in bounded memory.
readonly GZIP_MEMBER_MIB=32

# Usage: compress_file SOURCE DEST WORK: SOURCE compressed into DEST; WORK is a root-only
# scratch directory for the gzip members.
compress_file() {
  local source="$1" dest="$2" work="$3" pieces i
  local -a members=()
  case "$(suffix)" in
    .zst) zstd -q -T0 -c -- "$source" >"$dest" ;;
    .gz)
      require_tools libdeflate-gzip dd xargs nproc
      pieces=$((($(stat -c %s -- "$source") + GZIP_MEMBER_MIB * 1048576 - 1) / (GZIP_MEMBER_MIB * 1048576)))
      ((pieces > 0)) || pieces=1
      for ((i = 0; i < pieces; i++)); do members+=("$work/member.$i"); done
      # xargs fails when any piece fails; each piece is its own pipefail pipeline.
      # shellcheck disable=SC2016 # expanded by the inner bash
      printf '%s\n' "${!members[@]}" | xargs -P "$(nproc)" -I '{}' bash -c \
        'set -euo pipefail; dd if="$1" bs=1M skip=$(($2 * $3)) count="$2" status=none | libdeflate-gzip -6 -c >"$4"' \
        piece "$source" "$GZIP_MEMBER_MIB" '{}' "$work/member.{}" || return 1
      cat -- "${members[@]}" >"$dest" || return 1
      rm -f -- "${members[@]}"
      ;;
  esac
}

# The identity of a file's contents as the kernel keeps it: any later write changes its
# change time (nanoseconds), whoever makes it. The kernel stamps files with a clock that
# moves in ticks of a few milliseconds, and a write within the tick of the file's last
# change would leave that time as it was, so this waits until the last change is more
# than 20 ms old (at most 20 ms, and only for a file written just before).
file_identity() {
  local changed
  changed="$(stat -c %.9Z -- "$1")" || return 1
  while (($(date +%s%N) - ${changed/./} < 20000000)); do sleep 0.005; done
  stat -c '%d %i %s %.9Y %.9Z' -- "$1"
}

# Usage: decompress [-t] FILE [NAME]: to stdout, or with -t test only. The format comes
# from NAME's suffix (default FILE), so a .partial file is read as what it will become.
decompress() {
  local test=false
  [[ "$1" == -t ]] && test=true && shift
  case "${2:-$1}" in
    *.gz) if [[ "$test" == true ]]; then gzip -t -- "$1"; else gzip -dc -- "$1"; fi ;;
    *.zst) if [[ "$test" == true ]]; then zstd -q -t -- "$1"; else zstd -q -dc -- "$1"; fi ;;
    *) die "not a backup file name: $1" ;;
  esac
}

# SHA-256 of each file a run published, by path relative to /backups, computed from the
# bytes its verification read: write_manifest reuses them instead of reading every file
# once more.
declare -A PUBLISHED_SUMS=()

# Usage: publish SOURCE NAME WORK [IDENTITY]: SOURCE compressed as NAME (relative to
# /backups). The file lands under its final name only once it is proven to decompress,
# read back from the disk with the decompressor restores use, to exactly the bytes of
# SOURCE (cmp); with IDENTITY (file_identity of SOURCE when it was checked), SOURCE must
# not have changed since. Until then it is a hidden .partial file that no listing or
# retention rule matches. The same read feeds its SHA-256 for the manifest. WORK is a
# root-only scratch directory.
publish() {
  local source="$1" final="$BACKUPS/$2" work="$3" identity="${4:-}" partial sum_file="$3/sha256" sum="" hash hasher status=0
  partial="$(dirname "$final")/.$(basename "$final").partial"
  compress_file "$source" "$partial" "$work" || die "compressing $final failed; not kept"
  exec {hash}> >(sha256sum >"$sum_file")
  hasher=$!
  tee -- "/dev/fd/$hash" <"$partial" | decompress /dev/stdin "$final" | cmp -s -- - "$source" || status=$?
  exec {hash}>&-
  wait "$hasher" || die "could not checksum $final"
  ((status == 0)) || die "verification failed for $final (it does not decompress to the checked snapshot); not kept"
  read -r sum _ <"$sum_file" && rm -f -- "$sum_file"
  [[ "$sum" =~ ^[0-9a-f]{64}$ ]] || die "could not checksum $final"
  if [[ -n "$identity" && "$(file_identity "$source")" != "$identity" ]]; then
    die "verification failed for $final: the snapshot changed after its check; not kept"
  fi
  # Created 0600 root (umask); readable by the deploy user's group from its first moment
  # under the final name, and by nobody else.
  { chgrp -- "$BACKUP_GID" "$partial" && chmod 0640 -- "$partial"; } || die "cannot set the group and mode of $final"
  mv -f "$partial" "$final"
  PUBLISHED_SUMS["${final#"$BACKUPS"/}"]="$sum"
  log INFO "Created $final ($(human_size "$(stat -c %s "$final")"))"
}

snapshot_sqlite() {
  local dir="$1" source result
  require_tools sqlite3
  source="$DATA/$(config SQLITE_PATH)"
  [[ -f "$source" ]] || die "SQLite database not found at $source"
  # VACUUM INTO copies inside one read transaction: consistent even while the tracker
  # writes (a plain copy of a live file is not), and .timeout waits out its locks.
  sqlite3 -readonly -bail -cmd '.timeout 30000' "$source" "VACUUM INTO '$dir/database.db'" \
    || die "SQLite snapshot of $source failed"
  log INFO "SQLite snapshot taken ($(human_size "$(stat -c %s "$dir/database.db")"))"
}

# Runs after the tracker is back. A file copied while the tracker was stopped may come
# with a journal or WAL from an unclean stop: opening it read-write rolls that into the
# copy, as the tracker itself would, so that the file checked is the file compressed.
recover_sqlite() {
  local db="$1"
  if [[ -e "$db-journal" || -e "$db-wal" ]]; then
    sqlite3 -bail "$db" 'PRAGMA schema_version' >/dev/null 2>&1 || true
  fi
  [[ ! -e "$db-journal" && ! -e "$db-wal" ]] || die "SQLite snapshot still has a journal after recovery"
}

# quick_check reads every page and record (integrity_check also cross-checks every index
# against its table, which took 30x as long on 1 GB).
check_sqlite() {
  local db="$1" result
  result="$(sqlite3 -bail "$db" 'PRAGMA quick_check' 2>&1)" || true
  [[ "$result" == ok ]] || die "SQLite snapshot failed its check: ${result:0:200}"
  log INFO "SQLite snapshot checked (quick_check ok)"
}

# The password reaches the MySQL clients through MYSQL_PWD in the environment of that
# one command, never argv (where ps would show it) and never a sourced file.
with_password() {
  local password_file="$BACKUPS/etc/mysql-password" password=""
  [[ -r "$password_file" ]] || die "cannot read $password_file"
  # read, not $(<file): command substitution drops trailing newlines, which may be part
  # of the password. read -d '' stops at end of file and returns 1 there.
  IFS= read -r -d '' password <"$password_file" || true
  MYSQL_PWD="$password" "$@"
}

wait_for_mysql() {
  local host="$1" port="$2" user="$3" waited=0
  until with_password mysqladmin --host="$host" --port="$port" --user="$user" --connect-timeout=3 ping >/dev/null 2>&1; do
    if ((waited >= MYSQL_WAIT_SECONDS)); then
      die "MySQL at $host:$port is unreachable (no answer to ping for ${MYSQL_WAIT_SECONDS}s)"
    fi
    sleep 1
    waited=$((waited + 1))
  done
}

snapshot_mysql() {
  local dir="$1" host port database user
  require_tools mysqldump mysqladmin
  host="$(config MYSQL_HOST)"
  port="$(config MYSQL_PORT)"
  database="$(config MYSQL_DATABASE)"
  user="$(config MYSQL_USER)"
  wait_for_mysql "$host" "$port" "$user"
  # One consistent InnoDB transaction; --no-tablespaces avoids the PROCESS privilege
  # error the guide warns about.
  with_password mysqldump --host="$host" --port="$port" --user="$user" \
    --single-transaction --quick --routines --triggers --no-tablespaces \
    --result-file="$dir/database.sql" -- "$database" \
    || die "mysqldump of $database on $host:$port failed"
  check_dump "$dir/database.sql"
  log INFO "MySQL dump taken ($(human_size "$(stat -c %s "$dir/database.sql")"), completion trailer present)"
}

check_dump() {
  tail -n 1 "$1" | grep -q '^-- Dump completed' || die "MySQL dump is incomplete (no completion trailer)"
}

cmd_snapshot() {
  local stamp driver
  # The maintenance script names the run; a manual `docker compose run` names its own.
  stamp="${BACKUP_STAMP:-$(date -u -d "@$(now_epoch)" +%Y%m%d_%H%M%S)}"
  [[ "$stamp" =~ ^[0-9]{8}_[0-9]{6}$ ]] || die "BACKUP_STAMP must look like YYYYMMDD_HHMMSS, got: $stamp"
  driver="$(config DATABASE_DRIVER)"
  # A staging directory left behind belongs to a run that died; it is never published.
  layout_clear_staging "$BACKUPS"
  mkdir -p "$STAGING/$stamp"
  case "$driver" in
    sqlite3) snapshot_sqlite "$STAGING/$stamp" ;;
    mysql) snapshot_mysql "$STAGING/$stamp" ;;
    *) die "unknown DATABASE_DRIVER: $driver" ;;
  esac
}

staged_stamp() {
  local -a stamps=()
  [[ -d "$STAGING" ]] && mapfile -t stamps < <(find "$STAGING" -mindepth 1 -maxdepth 1 -type d -printf '%f\n')
  ((${#stamps[@]} == 1)) || die "expected one staged snapshot in $STAGING, found ${#stamps[@]}"
  printf '%s' "${stamps[0]}"
}

# The snapshot's identity is taken before its check, so the backup is proven to hold the
# bytes that passed it.
compress_database() {
  local stamp="$1" staged name identity
  if [[ -f "$STAGING/$stamp/database.db" ]]; then
    staged="$STAGING/$stamp/database.db"
    recover_sqlite "$staged"
    identity="$(file_identity "$staged")"
    check_sqlite "$staged"
    name="$(layout_name sqlite "$stamp" "$(config COMPRESSION)")"
  else
    staged="$STAGING/$stamp/database.sql"
    [[ -f "$staged" ]] || die "no staged database in $STAGING/$stamp"
    identity="$(file_identity "$staged")"
    check_dump "$staged"
    name="$(layout_name mysql "$stamp" "$(config COMPRESSION)")"
  fi
  publish "$staged" "$name" "$STAGING/$stamp" "$identity"
}

# Whether a config path, resolved with its symlinks, is the backups directory, lies inside
# it or contains it. Archiving one would put every earlier archive (and the MySQL password
# file) into the next, doubling the archive each run until tar fails on files that change
# as it reads them. Compared both as paths under /data, where the compose file mounts
# ./storage/backup, and by identity with /backups, which a symlink may lead to.
touches_backups() {
  local resolved="$1" backups_in_data ancestor
  backups_in_data="$(realpath -m -- "$DATA/storage/backup")"
  [[ "$resolved" == "$backups_in_data" || "$resolved" == "$backups_in_data/"* || "$backups_in_data" == "$resolved/"* ]] && return 0
  ancestor="$resolved"
  while [[ -n "$ancestor" ]]; do
    [[ "$ancestor" -ef "$BACKUPS" ]] && return 0
    ancestor="${ancestor%/*}"
  done
  return 1
}

# Sets CONFIG_REFUSED when a listed path had to be left out: the run still publishes its
# database backup and the rest of the archive, then fails so that the operator hears of it.
# Usage: archive_config STAMP WORK (a root-only scratch directory).
archive_config() {
  local stamp="$1" work="$2" path name
  local -a present=()
  while IFS= read -r path || [[ -n "$path" ]]; do
    [[ -z "$path" || "$path" == '#'* ]] && continue
    if touches_backups "$(realpath -m -- "$DATA/$path")"; then
      log ERROR "Config path $path is, contains or is inside the backups directory; skipped"
      CONFIG_REFUSED=true
    elif [[ -e "$DATA/$path" ]]; then
      present+=("$path")
    else
      log WARN "Config path $path not found; skipped"
    fi
  done <"$BACKUPS/etc/backup-paths.txt"
  if ((${#present[@]} == 0)); then
    log WARN "No config paths found; no config archive this run"
    return 0
  fi
  name="$(layout_name config "$stamp" "$(config COMPRESSION)")"
  # Written out first, so the archive can be proven to hold exactly what tar read.
  tar -cf "$work/config.tar" -C "$DATA" -- "${present[@]}" || die "cannot archive the config files"
  publish "$work/config.tar" "$name" "$work"
  rm -f -- "$work/config.tar"
}

stamp_epoch() {
  local s="$1"
  date -u -d "${s:0:4}-${s:4:2}-${s:6:2} ${s:9:2}:${s:11:2}:${s:13:2}" +%s
}

# Age comes from the stamp in the name (UTC), as the guide says, not from mtime, which a
# copy or restore would reset. The newest backup of a kind is never deleted, whatever its
# age: after a long outage the last good backup is all there is.
# Both compressions count as one kind (layout.sh), so switching compression never strands
# (or loses) the newest backup. Usage: prune_kind DIR PREFIX PATTERN NOW MAX_AGE, PATTERN
# matching DIR/name.
prune_kind() {
  local dir="$1" prefix="$2" pattern="$3" now="$4" max_age="$5" name newest="" age
  local -a names=() dated=()
  [[ -d "$BACKUPS/$dir" ]] || return 0
  # Sorted by stamp, whatever the suffix.
  mapfile -t names < <(find "$BACKUPS/$dir" -maxdepth 1 -type f -name "${prefix}_*" -printf '%f\n' | LC_ALL=C sort)
  for name in "${names[@]}"; do
    [[ "$dir/$name" =~ $pattern ]] && dated+=("$name")
  done
  ((${#dated[@]} > 0)) || return 0
  newest="${dated[-1]}"
  for name in "${dated[@]}"; do
    [[ "$name" == "$newest" ]] && continue
    age=$((now - $(stamp_epoch "${name:${#prefix}+1:15}")))
    if ((age > max_age)); then
      rm -f -- "$BACKUPS/${dir:?}/$name"
      log INFO "Retention: deleted $name ($((age / 86400)) days old)"
    fi
  done
}

cmd_prune() {
  local now max_age kind
  now="$(now_epoch)"
  max_age=$(($(config RETENTION_DAYS) * 86400))
  for kind in "${LAYOUT_KINDS[@]}"; do
    prune_kind "$kind" "$kind" "$(layout_pattern "$kind")" "$now" "$max_age"
  done
  prune_kind "$LAYOUT_MANIFESTS" manifest "$(layout_manifest_pattern)" "$now" "$max_age"
}

# A manual `docker compose run --rm backup` (the image's default command, `all`) or
# `prune` takes the maintenance script's lock: /backups/etc/maintenance.lock is the
# host's storage/backup/etc/maintenance.lock through the bind mount, and flock holds
# across it. The other commands are the steps the host scripts run under that lock.
hold_lock() {
  local lock="$BACKUPS/etc/maintenance.lock"
  [[ ! -L "$lock" ]] || die "$lock is a symlink; not following it"
  exec 9>>"$lock"
  if ! flock --nonblock 9; then
    log ERROR "Another backup is already running (lock $lock is held); not starting a second one"
    exit 75
  fi
}

cleanup_partials() {
  (cd "$BACKUPS" && find "${LAYOUT_KINDS[@]}" "$LAYOUT_MANIFESTS" -maxdepth 1 -name '.*.partial' -type f -delete) 2>/dev/null || true
}

# sha256sum format, paths relative to /backups, so `cd storage/backup && sha256sum -c
# manifests/manifest_<stamp>.sha256` checks a run's files on the host.
write_manifest() {
  local stamp="$1" file sum sums=""
  local -a files=()
  mapfile -t files < <(cd "$BACKUPS" && find "${LAYOUT_KINDS[@]}" -maxdepth 1 -type f -name "*_${stamp}.*" ! -name '.*' | LC_ALL=C sort)
  ((${#files[@]} > 0)) || die "no files to put in the manifest of $stamp"
  for file in "${files[@]}"; do
    sum="${PUBLISHED_SUMS[$file]:-}"
    if [[ -z "$sum" ]]; then
      # Not published by this run (a restore's safety archive, taken by `stage`): read it.
      sum="$(sha256sum -- "$BACKUPS/$file")" || die "could not checksum $file"
      sum="${sum%% *}"
    fi
    sums+="$sum  $file"$'\n'
  done
  # replace_file has logged why it failed.
  replace_file "$BACKUPS/$(layout_manifest "$stamp")" "$sums" "$BACKUP_GID" || exit 1
  log INFO "Manifest $(layout_manifest "$stamp") lists ${#files[@]} file(s)"
}

cmd_finish() {
  local stamp
  stamp="$(staged_stamp)"
  trap cleanup_partials EXIT
  compress_database "$stamp"
  # A restore archives the config before it stops the tracker (cmd_stage); what is
  # there now may already be the restored config.
  if compgen -G "$BACKUPS/config/config_$stamp.tar.*" >/dev/null; then
    log INFO "Config archive of $stamp was taken before the tracker stopped; not archiving again"
  else
    archive_config "$stamp" "$STAGING/$stamp"
  fi
  write_manifest "$stamp"
  keep_for_offsite "$stamp"
  rm -rf "$STAGING"
  # A run that fails deletes nothing, but what it did publish is complete and verified.
  [[ "$CONFIG_REFUSED" == false ]] || die "Config paths overlapping the backups directory were left out of the archive; fix backup.config_paths"
  # Only a run that produced its backups may delete old ones; the restore script's safety
  # backup prunes nothing, so the backup being restored cannot disappear under it.
  [[ "${BACKUP_PRUNE:-yes}" == no ]] || cmd_prune
}

# Off-site copies (docs/offsite.md). The secrets are root's 0600 files in etc/offsite/;
# restic reads the password and repository from them by name, and gets each backend
# credential in its own environment, so none is ever in an argument or a log line.
OFFSITE="$BACKUPS/etc/offsite"
UPLOAD="$BACKUPS/$LAYOUT_OFFSITE_UPLOAD"
OFFSITE_ERROR=""

offsite_enabled() {
  [[ -f "$OFFSITE/repository" && ! -L "$OFFSITE/repository" ]]
}

# The uncompressed database goes off-site, not the gzip stream: restic's content-defined
# chunks then match yesterday's wherever the pages did not change. Moved out of the
# staging directory (same file system) before that is removed; the config archive is
# linked under a fixed name.
keep_for_offsite() {
  local stamp="$1" file
  rm -rf -- "$UPLOAD"
  offsite_enabled || return 0
  mkdir -m 0700 -- "$UPLOAD"
  [[ ! -f "$STAGING/$stamp/database.db" ]] || compact_for_offsite "$STAGING/$stamp/database.db" "$UPLOAD/database.db"
  [[ ! -f "$STAGING/$stamp/database.sql" ]] || mv -- "$STAGING/$stamp/database.sql" "$UPLOAD/database.sql"
  for file in "$BACKUPS"/config/config_"$stamp".tar.*; do
    [[ -f "$file" ]] && ln -- "$file" "$UPLOAD/config.tar${file##*.tar}"
  done
  return 0
}

# A database file as the tracker grew it has its tables' and indexes' pages interleaved
# (each insert adds to both), so rows changed anywhere in a table touch restic chunks all
# over the file. VACUUM INTO writes each table and each index in one run of pages, in
# rowid order: the same scattered 1% of the rows then changes only the table's part
# (bench/offsite.sh: about half the bytes added). The copy gets the check the backup got;
# if either fails, the checked file goes as it is: an off-site matter never fails the run.
# Usage: compact_for_offsite CHECKED_DB TARGET
compact_for_offsite() {
  local checked="$1" target="$2" result
  if sqlite3 -bail -readonly "$checked" "VACUUM INTO '$target.partial'" \
    && result="$(sqlite3 -bail -readonly "$target.partial" 'PRAGMA quick_check' 2>&1)" && [[ "$result" == ok ]]; then
    mv -- "$target.partial" "$target"
    rm -f -- "$checked"
    log INFO "SQLite copy for off-site compacted in table order and checked (quick_check ok)"
  else
    log WARN "Could not compact the SQLite copy for off-site (${result:-VACUUM INTO failed}); uploading it as it is"
    rm -f -- "$target.partial"
    mv -- "$checked" "$target"
  fi
}

# Usage: restic_run ARG... Runs restic with the repository's secrets, its stderr kept in
# OFFSITE_ERROR (last line) for the status. Credentials are read with read -d '' (a
# trailing newline may be part of one) into this subshell's environment only.
restic_run() {
  local errors status=0
  errors="$(mktemp)"
  (
    local file name value
    for file in "$OFFSITE"/env/*; do
      [[ -f "$file" ]] || continue
      name="${file##*/}"
      [[ "$name" =~ ^[A-Z][A-Z0-9_]*$ ]] || continue
      value=""
      IFS= read -r -d '' value <"$file" || true
      export "$name=$value"
    done
    export RESTIC_REPOSITORY_FILE="$OFFSITE/repository" RESTIC_PASSWORD_FILE="$OFFSITE/password"
    [[ -z "$SSH_LOG" ]] || { : >"$SSH_LOG" && export PATH="$SSH_BIN:$PATH"; }
    exec restic --no-cache "$@"
  ) 2>"$errors" || status=$?
  OFFSITE_ERROR="$(restic_reason "$errors")"
  rm -f -- "$errors"
  return "$status"
}

# Usage: restic_reason FILE (restic's stderr). restic's "Fatal:" line says what went wrong;
# what follows it is advice. A lock held by another client has no such line, and its last
# line is the advice (`unlock`), so the line naming the holder is taken. For sftp the Fatal
# line says only "EOF": the reason is in ssh's own last words (a changed host key, a key
# the server refused), so they come first.
restic_reason() {
  local fatal ssh=""
  fatal="$({ grep -m 1 '^Fatal:' "$1" || grep -m 1 'already locked' "$1" || grep -v '^\s*$' "$1" | tail -n 1; } | tr -d '\r' | cut -c 1-300)" || true
  [[ -z "$SSH_LOG" || ! -s "$SSH_LOG" ]] ||
    ssh="$(grep -v -e '^@' -e '^ ' -e '^Warning: Permanently added' "$SSH_LOG" | tail -n 2 | tr -d '\r' | tr '\n' ' ' | cut -c 1-200)" || true
  printf '%s' "${ssh:+ssh: $ssh}$fatal"
}

# sftp logs in with the role's key and checks the role's known_hosts; without them the
# first key seen is kept (accept-new). restic 0.14 passes ssh's stderr on, but may exit
# before it has, so ssh writes its messages to a log (-E) instead, through a wrapper first
# in restic's PATH. All in the container's own home (umask 077), gone with it.
SSH_LOG=""
SSH_BIN=""
ssh_setup() {
  local known="$OFFSITE/known_hosts" strict=yes
  [[ -f "$known" ]] || { known="$OFFSITE/known_hosts.seen"; strict=accept-new; }
  mkdir -p "$HOME/.ssh/bin" && chmod 0700 "$HOME/.ssh"
  {
    printf 'Host *\n  BatchMode yes\n  ConnectTimeout 20\n  ServerAliveInterval 15\n'
    printf '  UserKnownHostsFile %s\n  StrictHostKeyChecking %s\n' "$known" "$strict"
    [[ ! -f "$OFFSITE/ssh_key" ]] || printf '  IdentityFile %s\n  IdentitiesOnly yes\n' "$OFFSITE/ssh_key"
  } >"$HOME/.ssh/config"
  SSH_LOG="$HOME/.ssh/log"
  SSH_BIN="$HOME/.ssh/bin"
  printf '#!/bin/sh\nexec %q -E %q "$@"\n' "$(command -v ssh)" "$SSH_LOG" >"$SSH_BIN/ssh"
  chmod 0700 "$SSH_BIN/ssh"
}

# A repository that does not exist yet is made; one that exists but refuses the password
# is an error, never a reason to make another.
open_repository() {
  restic_run cat config >/dev/null && return 0
  if [[ "$OFFSITE_ERROR" =~ (unable\ to\ open\ config\ file|repository\ does\ not\ exist).*(no\ such\ file|not\ found|does\ not\ exist|404) ]]; then
    log INFO "Off-site repository not found; initialising it"
    restic_run init >/dev/null || return 1
    return 0
  fi
  return 1
}

# Usage: offsite_result KEY=VALUE... The run reads these lines (data, never sourced).
offsite_result() {
  printf '%s\n' "$@" >>"$BACKUPS/$LAYOUT_OFFSITE_RESULT"
}

offsite_fail() {
  offsite_result "result=failed" "message=$1: ${OFFSITE_ERROR:-no message}"
  rm -rf -- "$UPLOAD"
  exit 1
}

# The repository a check was of, as a hash (the string may hold credentials).
repository_key() {
  sha256sum <"$OFFSITE/repository" | cut -d ' ' -f 1
}

# last-check holds "EPOCH REPOSITORY-KEY": a check counts only for the repository it read,
# so a new repository is checked on its first run rather than check_every_days later.
offsite_check_due() {
  local every last=0 key=""
  every="$(config OFFSITE_CHECK_EVERY_DAYS)"
  ((every > 0)) || return 1
  [[ ! -f "$OFFSITE/last-check" || -L "$OFFSITE/last-check" ]] || read -r last key <"$OFFSITE/last-check" || true
  [[ "$last" =~ ^[0-9]+$ && "$key" == "$(repository_key)" ]] || last=0
  (($(now_epoch) - last >= every * 86400))
}

# The first backup of a host whose store held none (the run sets OFFSITE_FIRST_BACKUP),
# into a repository that already holds snapshots of this host: a rebuilt host, before
# its data came back. Its near-empty database is not uploaded: it would be the newest
# snapshot, the one `restore --from offsite` picks, and forget --prune would count it
# against the snapshots taken before the disaster (docs/offsite.md, Disaster recovery).
offsite_rebuilt_host() {
  local snapshots
  [[ "${OFFSITE_FIRST_BACKUP:-no}" == yes ]] || return 1
  snapshots="$(restic_run snapshots --json --tag tracker-backup --host "$(config OFFSITE_HOST)")" \
    || offsite_fail "Off-site repository could not be read"
  [[ "$snapshots" =~ \"id\" ]] || return 1
  rm -rf -- "$UPLOAD"
  offsite_result "result=skipped" "check=skipped" \
    "message=not uploaded: the repository holds snapshots of $(config OFFSITE_HOST) from before this host's first backup; restore them with restore --from offsite"
  log WARN "Off-site copy skipped: the repository holds snapshots of $(config OFFSITE_HOST) and this host had no backup before this run (a rebuilt host?); restore them with restore --from offsite"
  return 0
}

cmd_offsite() {
  local stamp="$1" summary="$BACKUPS/$LAYOUT_OFFSITE_UPLOAD.json" snapshot added
  [[ "$stamp" =~ ^$LAYOUT_STAMP$ ]] || die "offsite: expected a stamp YYYYMMDD_HHMMSS, got '$stamp'"
  rm -f -- "$BACKUPS/$LAYOUT_OFFSITE_RESULT"
  offsite_enabled || { offsite_result "result=disabled" "message=no off-site repository configured"; return 0; }
  require_tools restic ssh
  [[ -d "$UPLOAD" ]] || { OFFSITE_ERROR="nothing staged in $LAYOUT_OFFSITE_UPLOAD"; offsite_fail "Off-site upload not attempted"; }
  ssh_setup
  open_repository || offsite_fail "Off-site repository could not be opened"
  ! offsite_rebuilt_host || return 0
  # The same paths every day, whatever the stamp, so restic compares with yesterday's files.
  restic_run backup --json --tag tracker-backup --tag "stamp:$stamp" \
    --host "$(config OFFSITE_HOST)" -- "$UPLOAD"/* >"$summary" || { rm -f -- "$summary"; offsite_fail "Off-site upload failed"; }
  # One JSON line per event; the last, the summary, names the snapshot and what it added.
  summary="$(grep '"message_type":"summary"' "$summary" | tail -n 1; rm -f -- "$summary")"
  snapshot="$(sed -n 's/.*"snapshot_id":"\([0-9a-f]\{8\}\).*/\1/p' <<<"$summary")"
  added="$(sed -n 's/.*"data_added":\([0-9]*\).*/\1/p' <<<"$summary")"
  rm -rf -- "$UPLOAD"
  offsite_result "snapshot=$snapshot" "bytes_added=${added:-}" "last_success=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  log INFO "Off-site snapshot $snapshot saved ($(human_size "${added:-0}") added to the repository)"
  restic_run forget --prune --tag tracker-backup --host "$(config OFFSITE_HOST)" \
    --keep-daily "$(config OFFSITE_KEEP_DAILY)" --keep-weekly "$(config OFFSITE_KEEP_WEEKLY)" \
    --keep-monthly "$(config OFFSITE_KEEP_MONTHLY)" >/dev/null || offsite_fail "Off-site forget/prune failed"
  if offsite_check_due; then
    restic_run check --read-data-subset="$(config OFFSITE_CHECK_SUBSET)" >/dev/null || {
      offsite_result "check=failed" "check_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
      offsite_fail "Off-site restic check failed"
    }
    replace_file "$OFFSITE/last-check" "$(now_epoch) $(repository_key)"$'\n' || true
    offsite_result "check=success" "check_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    log INFO "Off-site repository checked (read-data-subset $(config OFFSITE_CHECK_SUBSET))"
  else
    offsite_result "check=skipped"
  fi
  offsite_result "result=success" "message=snapshot $snapshot saved"
}

# Listing and restoring from off-site (tracker-backup list --offsite, restore --from
# offsite). Both read the repository only, without the lock, and write only into DIR: a
# root-only directory the host program made in /backups for this one command (named
# .offsite-get-XXXXXXXX) and removes when it is done.
OFFSITE_DIR=""
offsite_workdir() {
  local name="$1"
  [[ "$name" =~ ^\.offsite-get-[A-Za-z0-9]{8}$ ]] || die "not an off-site work directory name: ${name:0:60}"
  [[ -d "$BACKUPS/$name" && ! -L "$BACKUPS/$name" ]] || die "no off-site work directory $name in $BACKUPS"
  offsite_enabled || die "no off-site repository is configured (backup.offsite)"
  require_tools restic ssh
  ssh_setup
  OFFSITE_DIR="$BACKUPS/$name"
}

# restic's failure, for the host program's one line: DIR/error.
offsite_read_failed() {
  printf '%s\n' "$2: ${OFFSITE_ERROR:-no message}" >"$1/error"
  die "$2: ${OFFSITE_ERROR:-no message}"
}

# Usage: offsite-snapshots DIR. This host's snapshots, restic's JSON as it is, in
# DIR/snapshots.json; the host program reads it (it has python3, the image has not).
cmd_offsite_snapshots() {
  local dir
  offsite_workdir "${1:-}"
  dir="$OFFSITE_DIR"
  restic_run snapshots --json --tag tracker-backup --host "$(config OFFSITE_HOST)" >"$dir/snapshots.json" \
    || offsite_read_failed "$dir" "Off-site repository could not be read"
}

# Usage: offsite-fetch DIR SNAPSHOT STAMP. The snapshot restored into DIR/restic, its
# files found by kind whatever their paths (the database: the one file ending .db or
# .sql; the config: the one .tar.* archive), checked as a run checks them (SQLite
# quick_check, the dump's completion line, the archive's decompression test), and made
# into backup STAMP in DIR: <kind>/<kind>_<STAMP>.* and its manifest, as finish names
# them. The restore script verifies and restores that set like one of its own.
cmd_offsite_fetch() {
  local dir set snapshot="${2:-}" stamp="${3:-}" kind name archive sums work
  local -a databases=() archives=() files=()
  offsite_workdir "${1:-}"
  dir="$OFFSITE_DIR"
  # publish names files relative to /backups: the set is built inside the work directory.
  set="${1:-}"
  work="$(mktemp -d "$dir/.work.XXXXXXXX")"
  [[ "$snapshot" =~ ^[0-9a-f]{8,64}$ ]] || die "offsite-fetch: not a snapshot id: ${snapshot:0:60}"
  [[ "$stamp" =~ ^$LAYOUT_STAMP$ ]] || die "offsite-fetch: expected a stamp YYYYMMDD_HHMMSS, got '${stamp:0:60}'"
  restic_run restore "$snapshot" --target "$dir/restic" >/dev/null \
    || offsite_read_failed "$dir" "Off-site snapshot $snapshot could not be restored"
  mapfile -t databases < <(find "$dir/restic" -type f \( -name '*.db' -o -name '*.sql' \))
  mapfile -t archives < <(find "$dir/restic" -type f -name '*.tar.*')
  ((${#databases[@]} <= 1 && ${#archives[@]} <= 1)) || die "off-site snapshot $snapshot holds more than one database or config archive"
  ((${#databases[@]} + ${#archives[@]} > 0)) || die "off-site snapshot $snapshot holds no database and no config archive"
  mkdir -p -- "$dir/${LAYOUT_DRIVER_KIND[sqlite3]}" "$dir/${LAYOUT_DRIVER_KIND[mysql]}" "$dir/config" "$dir/$LAYOUT_MANIFESTS"
  if ((${#databases[@]} == 1)); then
    kind="${LAYOUT_DRIVER_KIND[$(config DATABASE_DRIVER)]}"
    [[ "${databases[0]}" == *".${LAYOUT_EXTENSION[$kind]}" ]] \
      || die "off-site snapshot $snapshot holds $(basename "${databases[0]}"), not a $kind backup; this host's database is $(config DATABASE_DRIVER)"
    if [[ "$kind" == sqlite ]]; then
      check_sqlite "${databases[0]}"
    else
      tail -n 1 "${databases[0]}" | grep -q '^-- Dump completed' || die "off-site dump $(basename "${databases[0]}") is incomplete (no completion trailer)"
      log INFO "MySQL dump checked (completion trailer present)"
    fi
    name="$(layout_name "$kind" "$stamp" "$(config COMPRESSION)")"
    publish "${databases[0]}" "$set/$name" "$work"
    files+=("$name")
  fi
  if ((${#archives[@]} == 1)); then
    archive="${archives[0]}"
    for name in "${LAYOUT_COMPRESSIONS[@]}"; do
      [[ "$archive" != *".tar.${LAYOUT_SUFFIX[$name]}" ]] || break
    done
    [[ "$archive" == *".tar.${LAYOUT_SUFFIX[$name]}" ]] || die "off-site snapshot $snapshot holds $(basename "$archive"), not a config archive this tool writes"
    # Decompressed, then compressed and proven like a run's archive, in this host's compression.
    decompress "$archive" >"$work/config.tar" || die "off-site config archive $(basename "$archive") does not decompress"
    name="$(layout_name config "$stamp" "$(config COMPRESSION)")"
    publish "$work/config.tar" "$set/$name" "$work"
    files+=("$name")
  fi
  rm -rf -- "$dir/restic" "$work"
  sums="$(cd "$dir" && sha256sum -- "${files[@]}")" || die "could not checksum the files fetched for $stamp"
  replace_file "$dir/$(layout_manifest "$stamp")" "$sums"$'\n' "$BACKUP_GID" || exit 1
  log INFO "Off-site snapshot ${snapshot:0:8} fetched and checked as backup $stamp: ${files[*]}"
}

# Restores. The caller (tracker-backup-restore.sh) has verified the checksum of the file
# it names; for restore-*, it has stopped the tracker and mounted the deploy directory
# read-write at /restore (lib.sh's install_* write there).
RESTORE="${TRACKER_BACKUP_RESTORE_DIR:-/restore}"

# Usage: restore_source KIND FILE. FILE (relative to /backups) is the one file whose
# checksum the restore script verified; only that file is restored, never another of the
# same stamp found here (a .gz next to the verified .zst, say).
restore_source() {
  local kind="$1" file="$2"
  { [[ "$file" =~ $(layout_pattern "$kind") ]] && layout_parse "$file"; } \
    || die "not a $kind backup file name: $file (expected $(layout_name "$kind" YYYYMMDD_HHMMSS gzip) or .${LAYOUT_SUFFIX[zstd]})"
  [[ -f "$BACKUPS/$file" ]] || die "no $kind backup $file"
}

# A root-only scratch directory for one restore under /backups, removed on exit (one a
# killed container left behind is removed by the next restore).
RESTORE_STAGING=""
new_restore_staging() {
  find "$BACKUPS" -mindepth 1 -maxdepth 1 -name '.restore-*' -type d -exec rm -rf -- {} +
  RESTORE_STAGING="$(mktemp -d "$BACKUPS/.restore-XXXXXXXX")" || die "cannot create a staging directory in $BACKUPS"
  trap 'rm -rf -- "$RESTORE_STAGING"' EXIT
}

# The backup is decompressed and checked in a root-only staging directory (STAGING_DIR),
# then put in place by install_sqlite, so the deploy directory is touched only once the
# copy is known good. Usage: stage_sqlite FILE STAGING_DIR
stage_sqlite() {
  local file="$1" staged="$2/database.db" result
  restore_source sqlite "$file"
  require_tools sqlite3
  decompress "$BACKUPS/$file" >"$staged" || die "cannot decompress $file"
  result="$(sqlite3 -readonly "$staged" 'PRAGMA quick_check' 2>&1)" || true
  [[ "$result" == ok ]] || die "restored database fails its check (quick_check): ${result:0:200}"
  log INFO "Decompressed and checked $(basename "$file") (quick_check ok)"
}

cmd_restore_sqlite() {
  local file="$1"
  new_restore_staging
  stage_sqlite "$file" "$RESTORE_STAGING"
  install_sqlite "$RESTORE_STAGING/database.db" "$(config SQLITE_PATH)" "$(basename "$file")" || exit 1
}

cmd_restore_mysql() {
  local file="$1" source host port database user
  restore_source mysql "$file"
  require_tools mysql mysqladmin
  source="$BACKUPS/$file"
  host="$(config MYSQL_HOST)"
  port="$(config MYSQL_PORT)"
  database="$(config MYSQL_DATABASE)"
  user="$(config MYSQL_USER)"
  wait_for_mysql "$host" "$port" "$user"
  # The dump drops and recreates each table, so existing tables are replaced.
  decompress "$source" | with_password mysql --host="$host" --port="$port" --user="$user" -- "$database" \
    || die "loading $(basename "$source") into $database failed"
  log INFO "Restored MySQL database $database from $(basename "$source")"
}

# A legacy archive (the Torrust Tracker Deployer's, with no manifest) holds the paths its
# container archived under /data: data/storage/... for the deploy directory's storage/...
# Every entry must be under data/storage/; the leading data/ is dropped on extraction.
# Usage: legacy_names NAMES; prints the names as they will be restored.
legacy_names() {
  grep -qv '^data/storage/' <<<"$1" && return 1
  # One name a line: ${1//...} cannot anchor at each line's start.
  # shellcheck disable=SC2001
  sed 's,^data/,,' <<<"$1"
}

# The archive is extracted into STAGING_DIR/tree after every path in it was checked;
# install_tree then copies each file into place by the link-safe walk.
# Usage: stage_config FILE STAGING_DIR [--legacy]
stage_config() {
  local file="$1" staging="$2" legacy="${3:-}" source names types
  local -a strip=()
  restore_source config "$file"
  source="$BACKUPS/$file"
  # Listed in full first: `... | grep -q` in a pipeline would end early on a match,
  # and under pipefail the broken pipe upstream would turn that match into a pass.
  names="$(decompress "$source" | tar -tf -)" || die "cannot read $(basename "$source") as an archive"
  if [[ "$legacy" == --legacy ]]; then
    names="$(legacy_names "$names")" || die "$(basename "$source") is not a legacy archive: not every path is under data/storage/"
    strip=(--strip-components=1)
  fi
  # tar -tv starts each line with the entry's type: - for a file, d for a directory.
  types="$(decompress "$source" | tar -tvf - | cut -c1)" || die "cannot read $(basename "$source") as an archive"
  [[ -n "$names" ]] || die "$(basename "$source") holds no files; nothing to restore"
  # Archives hold paths relative to the deploy directory and nothing else; refuse any
  # that would write outside it.
  if grep -qE '(^/|(^|/)\.\.(/|$))' <<<"$names"; then
    die "$(basename "$source") holds paths outside the deploy directory; not restoring it"
  fi
  if grep -qv '^[-d]$' <<<"$types"; then
    die "$(basename "$source") holds entries other than regular files and directories (links, devices); not restoring it"
  fi
  mkdir -- "$staging/tree"
  decompress "$source" | tar -xf - -C "$staging/tree" --no-same-owner --same-permissions "${strip[@]}" \
    || die "cannot extract $(basename "$source")"
  log INFO "Extracted and checked $(basename "$source")"
}

cmd_restore_config() {
  local file="$1" legacy="${2:-}"
  new_restore_staging
  stage_config "$file" "$RESTORE_STAGING" "$legacy"
  install_tree "$RESTORE_STAGING/tree" "$(basename "$file")" || exit 1
}

# NAME is the staging directory the restore script created under /backups for this
# restore (root-only, named .restore-XXXXXXXX).
check_host_staging() {
  local name="$1"
  [[ "$name" =~ ^\.restore-[A-Za-z0-9]{8}$ ]] || die "not a restore staging directory name: ${name:0:60}"
  [[ -d "$BACKUPS/$name" && ! -L "$BACKUPS/$name" ]] || die "no restore staging directory $name in $BACKUPS"
}

# Everything of a restore that can run while the tracker still runs: each FILE (a
# verified backup, as the restore script names it) decompressed and checked into the
# staging directory DIR (sqlite/... to DIR/database.db, config/... to DIR/tree); then,
# with BACKUP_STAMP, the current config files archived as that run's config archive:
# the restore's safety archive (config files are not written by the tracker).
# Usage: stage DIR [--legacy] FILE...
cmd_stage() {
  local staging="$BACKUPS/${1:-}" legacy="" file
  check_host_staging "${1:-}"
  shift
  trap cleanup_partials EXIT
  [[ "${1:-}" != --legacy ]] || { legacy=--legacy && shift; }
  for file in "$@"; do
    case "$file" in
      sqlite/*) stage_sqlite "$file" "$staging" ;;
      config/*) stage_config "$file" "$staging" "$legacy" ;;
      *) die "stage takes sqlite/ and config/ backup files, not: ${file:0:60}" ;;
    esac
  done
  [[ -n "${BACKUP_STAMP:-}" ]] || return 0
  [[ "$BACKUP_STAMP" =~ ^[0-9]{8}_[0-9]{6}$ ]] || die "BACKUP_STAMP must look like YYYYMMDD_HHMMSS, got: ${BACKUP_STAMP:0:60}"
  archive_config "$BACKUP_STAMP" "$staging"
  [[ "$CONFIG_REFUSED" == false ]] || die "Config paths overlapping the backups directory were left out of the archive; fix backup.config_paths"
}

# What can be checked of a backup without a manifest (no checksum was ever recorded for
# it), each check logged by name. Reads the file only: the SQLite copy is decompressed
# into a private temporary directory of the container.
cmd_check_legacy() {
  local file="$1" kind scratch result names
  layout_parse "$file" || die "not a backup file name: $file"
  kind="$LAYOUT_KIND"
  restore_source "$kind" "$file"
  decompress -t "$BACKUPS/$file" || die "legacy backup $file fails its decompression test; not restoring it"
  log INFO "Check of legacy backup $file: decompression test passed"
  case "$kind" in
    sqlite)
      require_tools sqlite3
      scratch="$(mktemp -d)"
      decompress "$BACKUPS/$file" >"$scratch/database.db" || { rm -rf -- "$scratch"; die "cannot decompress $file"; }
      result="$(sqlite3 -readonly "$scratch/database.db" 'PRAGMA quick_check' 2>&1)" || true
      rm -rf -- "$scratch"
      [[ "$result" == ok ]] || die "legacy backup $file fails quick_check: ${result:0:200}"
      log INFO "Check of legacy backup $file: SQLite quick_check ok"
      ;;
    mysql)
      decompress "$BACKUPS/$file" | tail -n 1 | grep -q '^-- Dump completed' \
        || die "legacy backup $file has no completion line: the dump is incomplete"
      log INFO "Check of legacy backup $file: dump completion line present"
      ;;
    config)
      names="$(decompress "$BACKUPS/$file" | tar -tf -)" || die "cannot read $file as an archive"
      legacy_names "$names" >/dev/null || die "legacy backup $file holds paths outside data/storage/"
      log INFO "Check of legacy backup $file: archive lists $(wc -l <<<"$names") path(s), all under data/storage/"
      ;;
  esac
}

main() {
  local command="${1:-all}" dir choices="${LAYOUT_COMPRESSIONS[*]}"
  require_tools gzip zstd tar find date stat sha256sum realpath
  load_config "$BACKUPS/etc/backup.conf"
  load_backup_gid
  [[ -n "${LAYOUT_SUFFIX[$(config COMPRESSION)]+set}" ]] \
    || die "COMPRESSION must be ${choices// / or }, not '$(config COMPRESSION)'"
  # Runs without the lock (a restore's plan), so it changes nothing in /backups.
  case "$command" in
    check-legacy) cmd_check_legacy "${2:-}"; return ;;
    offsite-snapshots) cmd_offsite_snapshots "${2:-}"; return ;;
    offsite-fetch) cmd_offsite_fetch "${@:2}"; return ;;
  esac
  # Nothing in /backups is touched before the lock is held.
  if [[ "$command" == all || "$command" == prune ]]; then
    require_tools flock
    hold_lock
  fi
  # One removed by hand comes back as the role makes it: 0750 root:BACKUP_GID.
  for dir in "${LAYOUT_KINDS[@]}" "$LAYOUT_MANIFESTS"; do
    [[ -e "$BACKUPS/$dir" || -L "$BACKUPS/$dir" ]] || install -d -m 0750 -g "$BACKUP_GID" -- "$BACKUPS/$dir"
  done
  cleanup_partials
  case "$command" in
    snapshot) cmd_snapshot ;;
    finish) cmd_finish ;;
    all) cmd_snapshot && cmd_finish ;;
    prune) cmd_prune ;;
    restore-sqlite) cmd_restore_sqlite "${2:-}" ;;
    restore-mysql) cmd_restore_mysql "${2:-}" ;;
    restore-config) cmd_restore_config "${2:-}" "${3:-}" ;;
    stage) cmd_stage "${@:2}" ;;
    offsite) cmd_offsite "${2:-}" ;;
    *) die "unknown command: $command (expected snapshot, finish, all, prune, offsite, offsite-snapshots, offsite-fetch, check-legacy, stage or restore-*)" ;;
  esac
}

main "$@"
