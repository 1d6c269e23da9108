#!/usr/bin/env bash
# restore.sh: how long the tracker is down during `tracker-backup-restore.sh --yes` (what
# `npm run restore -- --yes` runs on the host), on a sandbox target with generated SQLite
# databases of about 10 MB and 1 GB, restoring a gzip and a zstd backup, against a floor
# measured in the same run on the same target: decompressing that backup to disk plus
# the stand-in tracker's stop (SIGINT, by id, as our scripts do) and start.
#
# Usage: bench/restore.sh [SIZE_MB...]      (default: 10 1000)
# Environment: BENCH_RUNS_SMALL (default 3) runs per method below 100 MB, BENCH_RUNS_LARGE
# (default 1) at or above; the table shows the median.
# Downtime is what the restore itself logs ("Tracker started successfully (down for
# N.Ns)"): from the stop signal until the tracker's container runs again, the definition
# bench/downtime.sh reads from status.json (0.1 s resolution).
# Needs what the sandbox needs (scripts/setup.sh), and gzip and zstd; run as root.
# Prints markdown.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly NAME=bench-restore
readonly DB=storage/tracker/lib/database/tracker.db
readonly BACKUPS=storage/backup

set_compression() {
  on_target "$NAME" "sed -i 's/^COMPRESSION=.*/COMPRESSION=$1/' $BACKUPS/etc/backup.conf"
}

# backup_now: takes a backup with the current compression; prints its stamp.
backup_now() {
  on_target "$NAME" '/usr/local/bin/maintenance-backup.sh >> /var/log/tracker-backup.log 2>&1' >&2 \
    || die "backup failed: $(on_target "$NAME" "cat $BACKUPS/status.json")"
  on_target "$NAME" "cat $BACKUPS/status.json" | jq -r .stamp
}

# Every backup but the one of STAMP (the safety backups the restores took).
clear_other_backups() {
  on_target "$NAME" "find $BACKUPS/sqlite $BACKUPS/config $BACKUPS/manifests -maxdepth 1 -type f ! -name '*_$1.*' -delete"
}

# floor FILE: ms to decompress FILE (under the backups directory) to a file next to it,
# plus the tracker's stop and start.
# Single-quoted commands are run by sh with the paths as arguments.
# shellcheck disable=SC2016
floor() {
  local file="$DEPLOY/$BACKUPS/$1" decompressed="$DEPLOY/$BACKUPS/bench-floor.db" ms
  case "$file" in
    *.gz) ms="$(timed sh -c 'gzip -dc -- "$1" > "$2" && sync -- "$2"' sh "$file" "$decompressed")" ;;
    *.zst) ms="$(timed sh -c 'zstd -q -dc -- "$1" > "$2" && sync -- "$2"' sh "$file" "$decompressed")" ;;
  esac
  rm -f -- "$decompressed"
  echo $((ms + $(signal_start "$NAME")))
}

# restore STAMP: prints "downtime_ms total_ms".
restore() {
  local stamp="$1" log total down
  log="$WORK/restore.log"
  total="$(timed_on_target "$NAME" "/usr/local/bin/tracker-backup-restore.sh --at $stamp --yes >/tmp/bench-restore.log 2>&1")" \
    || die "restore of $stamp failed: $(on_target "$NAME" 'cat /tmp/bench-restore.log')"
  on_target "$NAME" 'cat /tmp/bench-restore.log' >"$log"
  down="$(sed -nE 's/.*Tracker started successfully \(down for ([0-9]+)\.([0-9])s\).*/\1\2/p' "$log" | tail -n 1)"
  [[ -n "$down" ]] || die "restore of $stamp logged no downtime: $(cat "$log")"
  clear_other_backups "$stamp"
  echo "$((10#$down * 100)) $total"
}

bench_size() {
  local size="$1" runs bytes compression stamp file fl down total
  runs="${BENCH_RUNS_SMALL:-3}"
  ((size < 100)) || runs="${BENCH_RUNS_LARGE:-1}"
  say "generating a ${size} MB tracker database"
  on_target "$NAME" 'docker-compose stop tracker >/dev/null 2>&1'
  "$BENCH_DIR/gen-sqlite.sh" "$size" "$DEPLOY/$DB"
  on_target "$NAME" 'docker-compose start tracker >/dev/null 2>&1'
  bytes="$(stat -c %s "$DEPLOY/$DB")"
  on_target "$NAME" "rm -f $BACKUPS/sqlite/* $BACKUPS/config/* $BACKUPS/manifests/*"

  printf '\n### SQLite, %s MB database (%s bytes), median of %s run(s)\n\n' "$size" "$bytes" "$runs"
  printf '| backup restored | tracker down (s) | floor: decompress + stop/start (s) | down ÷ floor | restore total (s) |\n|---|---|---|---|---|\n'
  local -a verdicts=()
  for compression in gzip zstd; do
    set_compression "$compression"
    stamp="$(backup_now)"
    file="$(on_target "$NAME" "cut -d' ' -f3 $BACKUPS/manifests/manifest_$stamp.sha256 | grep '^sqlite/'")"
    # The page cache is warm for the floor and the restore alike.
    cat "$DEPLOY/$BACKUPS/$file" >/dev/null
    say "$size MB, $compression: floor ($runs run(s))"
    fl="$(repeat "$runs" floor "$file")"
    say "$size MB, $compression: restore --yes ($runs run(s))"
    read -r down total <<<"$(repeat "$runs" restore "$stamp")"
    printf '| %s (%s) | %s | %s | %s | %s |\n' "$compression" "$file" "$(secs "$down")" "$(secs "$fl")" "$(ratio "$down" "$fl")" "$(secs "$total")"
    verdicts+=("$compression: downtime $(secs "$down") s = $(ratio "$down" "$fl") × floor (target ≤ 1.20): $(awk -v d="$down" -v f="$fl" 'BEGIN { print (d <= 1.2 * f) ? "met" : "NOT met" }')")
  done
  printf '\nTargets at %s MB:\n\n' "$size"
  printf -- '- %s\n' "${verdicts[@]}"
}

main() {
  local size
  local -a sizes=("$@")
  ((${#sizes[@]} > 0)) || sizes=(10 1000)
  provisioned_target "$NAME"
  printf '## Restore downtime (bench/restore.sh %s)\n\n%s\n' "${sizes[*]}" "$(machine)"
  printf 'Restore script: sha256 %s.\n' "$(on_target "$NAME" 'sha256sum /usr/local/bin/tracker-backup-restore.sh' | cut -c1-16)"
  for size in "${sizes[@]}"; do
    bench_size "$size"
  done
}

main "$@"
