#!/usr/bin/env bash
# Commands in single quotes run in a container, where they expand; markdown has backticks.
# shellcheck disable=SC2016
# offsite.sh: the off-site copy (issue 12, P6) on a generated SQLite database of SIZE_MB:
# what day 2 adds to the restic repository after 1% of the rows changed, and how fast
# day 1 uploads, through our path (the backup image's `finish` and `offsite` steps, as a
# stop-mode run calls them) against a plain `restic backup` of the same file and against
# uploading the gzip archive, as peers do. Every variant gets a fresh repository on the
# same restic REST server (sandbox/offsite: Debian 13's restic-rest-server) and runs the
# restic of the backup image built from this checkout (Debian 12's, what operators run).
#
# Which 1%: (a) clustered, the newest 1% of the torrents by rowid (a tracker appends
# torrents, and the recent ones are the active ones); (b) scattered, 1% chosen uniformly
# at random. Both start from the same day-1 database.
#
# Usage: bench/offsite.sh [SIZE_MB]     (default 1000)
# Environment: BENCH_OFFSITE_VARIANTS, comma-separated staging variants measured besides
# ours, the plain baseline and the gzip upload (default "online,max"): online = the
# online mode's `VACUUM INTO` snapshot instead of the stop mode's copy; max = restic's
# --compression max on our upload.
# Needs: scripts/setup.sh done, root, about 4 × SIZE_MB of disk in /var/tmp. Prints markdown.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly TAG="$$"
readonly IMAGE="tracker-backup-bench:offsite-$TAG"
readonly REST_IMAGE=tracker-backup-sandbox/offsite-rest
readonly NETWORK="tbsandbox-bench-offsite-$TAG"
readonly REST="tbsandbox-bench-offsite-rest-$TAG"
readonly DATABASE=storage/tracker/lib/database/tracker.db
readonly PASSWORD='bench password'
DEPLOY="$WORK/deploy"
STORE="$DEPLOY/storage/backup"
REPOS="$WORK/repos"
readonly DEPLOY STORE REPOS

teardown() {
  # The server and, after an interrupt, the step that was running: the network goes only
  # once nothing is attached to it.
  docker ps -aq --filter "network=$NETWORK" | xargs -r docker rm -f >/dev/null 2>&1 || true
  docker network rm "$NETWORK" >/dev/null 2>&1 || true
  docker rmi "$IMAGE" >/dev/null 2>&1 || true
  cleanup
}
trap teardown EXIT

# The backup image as the role builds it: this checkout's files/lib, scripts executable.
build_images() {
  cp -R "$REPO_ROOT/roles/tracker_backup/files/lib" "$WORK/image"
  chmod 0755 "$WORK"/image/*.sh
  docker build -q -t "$IMAGE" "$WORK/image" >&2
  docker build -q -t "$REST_IMAGE" "$REPO_ROOT/sandbox/offsite" >&2
  docker network create "$NETWORK" >/dev/null
  mkdir -p "$REPOS"
  docker run -d --name "$REST" --network "$NETWORK" -v "$REPOS:/data" "$REST_IMAGE" >/dev/null
}

# A deploy directory with the store as the role leaves it. OFFSITE_CHECK_EVERY_DAYS=0: the
# weekly check is not part of an upload. OFFSITE_KEEP_*=0: every "day" of the bench is
# the same calendar day, so keep-daily would forget and prune the previous day's snapshot
# and the repository's growth would no longer be what the upload added (forget --prune
# still runs; with no policy it removes nothing, as on a real day 1).
deployment() {
  mkdir -p "$STORE/etc/offsite/env" "$STORE"/{sqlite,mysql,config,manifests} "$DEPLOY/storage/tracker/etc" "$(dirname "$DEPLOY/$DATABASE")"
  printf '[core]\n' >"$DEPLOY/storage/tracker/etc/tracker.toml"
  printf '%s\n' DATABASE_DRIVER=sqlite3 "SQLITE_PATH=$DATABASE" RETENTION_DAYS=7 COMPRESSION=gzip \
    OFFSITE_KEEP_DAILY=0 OFFSITE_KEEP_WEEKLY=0 OFFSITE_KEEP_MONTHLY=0 OFFSITE_CHECK_EVERY_DAYS=0 \
    OFFSITE_CHECK_SUBSET=5% OFFSITE_HOST=bench >"$STORE/etc/backup.conf"
  printf 'storage/tracker/etc/tracker.toml\n' >"$STORE/etc/backup-paths.txt"
  printf '%s\n' "$PASSWORD" >"$STORE/etc/offsite/password"
  chmod 0600 "$STORE/etc/offsite/password"
}

# container ARGS...: the backup image on the server's network with the store and the
# deploy directory mounted as run.sh mounts them.
container() {
  docker run --rm --network "$NETWORK" -v "$STORE:/backups" -v "$DEPLOY:/data:ro" "$@"
}

repo_bytes() {
  du -sb "$REPOS/$1" 2>/dev/null | cut -f1 || echo 0
}

# ours REPO STAMP MODE: one local backup (stop: the host's copy, then `finish`; online:
# `all`, whose snapshot is VACUUM INTO), then the timed `offsite` step. Prints
# "ms repo_growth data_added".
ours() {
  local repo="$1" stamp="$2" mode="$3" before ms added
  printf 'rest:http://%s:8000/%s' "$REST" "$repo" >"$STORE/etc/offsite/repository"
  if [[ "$mode" == stop ]]; then
    mkdir -p "$STORE/.staging/$stamp"
    cp -- "$DEPLOY/$DATABASE" "$STORE/.staging/$stamp/database.db"
    container "$IMAGE" finish >&2 || die "finish of $stamp failed"
  else
    container -e "BACKUP_STAMP=$stamp" "$IMAGE" all >&2 || die "backup of $stamp failed"
  fi
  before="$(repo_bytes "$repo")"
  ms="$(timed container "$IMAGE" offsite "$stamp")" || die "offsite step of $stamp failed: $(cat "$STORE/.offsite-result")"
  grep -qx 'result=success' "$STORE/.offsite-result" || die "offsite step of $stamp: $(cat "$STORE/.offsite-result")"
  added="$(sed -n 's/^bytes_added=//p' "$STORE/.offsite-result")"
  echo "$ms $(($(repo_bytes "$repo") - before)) $added"
}

# plain REPO DIR FILE [RESTIC OPTION...]: `restic backup` of DIR/FILE (mounted at /upload,
# so the path is the same every day) into REPO, initialising it if new, with the same
# restic and flags our step uses. Prints "ms repo_growth data_added".
plain() {
  local repo="$1" dir="$2" file="$3" before ms added
  shift 3
  before="$(repo_bytes "$repo")"
  ms="$(timed container -v "$dir:/upload:ro" -e "RESTIC_REPOSITORY=rest:http://$REST:8000/$repo" \
    -e RESTIC_PASSWORD_FILE=/backups/etc/offsite/password --entrypoint sh "$IMAGE" -c '
      restic --no-cache cat config >/dev/null 2>&1 || restic --no-cache init >/dev/null || exit 1
      restic --no-cache backup --json --host bench "$@" -- "/upload/$0" >/backups/.plain-summary' "$file" "$@")" \
    || die "restic backup of $file into $repo failed"
  added="$(grep '"message_type":"summary"' "$STORE/.plain-summary" | sed -n 's/.*"data_added":\([0-9]*\).*/\1/p')"
  echo "$ms $(($(repo_bytes "$repo") - before)) $added"
}

# set_db FILE: the tracker's database becomes a copy of FILE.
set_db() {
  cp -- "$1" "$DEPLOY/$DATABASE"
  cat "$DEPLOY/$DATABASE" >/dev/null
}

# changed FILE: "pages regions": how many 4 KiB pages and 1 MiB regions of FILE differ
# from the day-1 database.
changed() {
  cmp -l "$WORK/db/day1.db" "$1" | awk '{ o = $1 - 1; p[int(o / 4096)] = 1; r[int(o / 1048576)] = 1 } END { print length(p), length(r) }' || true
}

pct() {
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f %%", 100 * a / b }'
}

mb() {
  awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1000000 }'
}

# compaction_ms: what `finish` now spends on the off-site copy of the day-1 database
# (VACUUM INTO and quick_check of the result), timed in the backup image.
compaction_ms() {
  mkdir -p "$WORK/compact"
  cp -- "$WORK/db/day1.db" "$WORK/compact/checked.db"
  timed docker run --rm -v "$WORK/compact:/w" --entrypoint sh "$IMAGE" -c \
    "sqlite3 -bail -readonly /w/checked.db \"VACUUM INTO '/w/compacted.db'\" && sqlite3 -readonly /w/compacted.db 'PRAGMA quick_check' | grep -qx ok" \
    || die "compaction failed"
  rm -rf -- "$WORK/compact"
}

# row_days LABEL DAY1 DAY2_CLUSTERED DAY2_SCATTERED: each "ms growth data_added".
row_days() {
  local label="$1"
  local -a d1 c s
  read -ra d1 <<<"$2"
  read -ra c <<<"$3"
  read -ra s <<<"$4"
  printf '| %s | %s [%s] | %s [%s] | **%s** |' "$label" "$(mb "${d1[1]}")" "$(mb "${d1[2]}")" "$(mb "${c[1]}")" "$(mb "${c[2]}")" "$(pct "${c[1]}" "$BYTES")"
  if ((${#s[@]} > 0)); then
    printf ' %s [%s] | **%s** |\n' "$(mb "${s[1]}")" "$(mb "${s[2]}")" "$(pct "${s[1]}" "$BYTES")"
  else
    printf ' - | - |\n'
  fi
}

# row_time LABEL "ms ..." BASELINE_MS
row_time() {
  printf '| %s | %s | %s | %s |\n' "$1" "$(secs "${2%% *}")" "$(rate "$BYTES" "${2%% *}")" "$(ratio "$3" "${2%% *}")"
}

# The run each database state is backed up as.
declare -A DAY=([day1]=01 [clustered]=02 [scattered]=03)
readonly DAY

main() {
  local size="${1:-1000}" rows pages variant state regions restic_version compact
  local -a variants=() clustered scattered
  IFS=, read -ra variants <<<"${BENCH_OFFSITE_VARIANTS-online,max}"
  say "building the backup image and starting the REST server"
  build_images
  deployment
  mkdir -p "$WORK/db" "$WORK/gz"
  say "generating a ${size} MB tracker database"
  "$BENCH_DIR/gen-sqlite.sh" "$size" "$WORK/db/day1.db"
  BYTES="$(stat -c %s "$WORK/db/day1.db")"
  pages="$(sqlite3 "$WORK/db/day1.db" 'PRAGMA page_count')"
  rows="$(sqlite3 "$WORK/db/day1.db" 'SELECT count(*) FROM torrents')"
  regions=$(((BYTES + 1048575) / 1048576))
  cp -- "$WORK/db/day1.db" "$WORK/db/clustered.db"
  sqlite3 "$WORK/db/clustered.db" "UPDATE torrents SET completed = completed + 1 WHERE rowid > (SELECT max(rowid) FROM torrents) - $((rows / 100))"
  cp -- "$WORK/db/day1.db" "$WORK/db/scattered.db"
  sqlite3 "$WORK/db/scattered.db" "UPDATE torrents SET completed = completed + 1 WHERE abs(random()) % 100 = 0"
  read -ra clustered <<<"$(changed "$WORK/db/clustered.db")"
  read -ra scattered <<<"$(changed "$WORK/db/scattered.db")"
  restic_version="$(docker run --rm --entrypoint restic "$IMAGE" version | cut -d' ' -f1-2)"

  # Day 1, then day 2 clustered, then day 2 scattered (from the day-1 database, into the
  # repository that holds day 1 and the clustered day 2).
  local -A result=()
  for state in day1 clustered scattered; do
    set_db "$WORK/db/$state.db"
    say "$state: plain restic backup of the database file as it is"
    result[plain_$state]="$(plain plain "$(dirname "$DEPLOY/$DATABASE")" tracker.db)"
    say "$state: ours (stop mode copy, finish, offsite step)"
    result[ours_$state]="$(ours ours "202611${DAY[$state]}_030000" stop)"
    cp -- "$STORE/sqlite/sqlite_202611${DAY[$state]}_030000.db.gz" "$WORK/gz/$state.db.gz"
  done
  say "peers: the .db.gz archive, day 1 and day 2 (clustered)"
  for state in day1 clustered; do
    cp -- "$WORK/gz/$state.db.gz" "$WORK/gz/database.db.gz"
    result[gz_$state]="$(plain gz "$WORK/gz" database.db.gz)"
  done
  for variant in "${variants[@]}"; do
    for state in day1 clustered scattered; do
      case "$variant" in
        online)
          say "$state: ours in online mode (VACUUM INTO snapshot)"
          set_db "$WORK/db/$state.db"
          result[online_$state]="$(ours online "202611${DAY[$state]}_040000" online)"
          ;;
        max)
          say "$state: restic backup --compression max of the compacted file"
          mkdir -p "$WORK/max"
          sqlite3 "$WORK/db/$state.db" "VACUUM INTO '$WORK/max/next.db'"
          mv -- "$WORK/max/next.db" "$WORK/max/database.db"
          result[max_$state]="$(plain max "$WORK/max" database.db --compression max)"
          ;;
        *) die "unknown variant: $variant" ;;
      esac
    done
  done
  say "timing the compaction for off-site"
  compact="$(compaction_ms)"

  printf '### Output (bench/offsite.sh %s)\n\n%s\n' "$size" "$(machine)"
  printf 'restic: %s (the backup image'"'"'s, Debian 12); server: restic-rest-server (Debian 13) on a local Docker network. Load before the run: %s.\n\n' "$restic_version" "$BENCH_LOAD"
  printf 'Database: %s bytes, %s pages of %s bytes, %s torrents; 1%% = %s rows.\n\n' "$BYTES" "$pages" "$((BYTES / pages))" "$rows" "$((rows / 100))"
  printf '| day-2 change | pages changed | 1 MiB regions changed |\n|---|---|---|\n'
  printf '| clustered: newest 1%% by rowid | %s of %s (%s) | %s of %s |\n' "${clustered[0]}" "$pages" "$(pct "${clustered[0]}" "$pages")" "${clustered[1]}" "$regions"
  printf '| scattered: 1%% at random | %s of %s (%s) | %s of %s |\n\n' "${scattered[0]}" "$pages" "$(pct "${scattered[0]}" "$pages")" "${scattered[1]}" "$regions"

  printf '#### Bytes added to the repository\n\n'
  printf '"added": the repository'"'"'s growth on the server'"'"'s disk (packs, index, snapshot); in brackets restic'"'"'s `data_added` (new chunks before compression, what status.json reports). Day 2 scattered starts from the day-1 database, in the repository that holds day 1 and day 2 clustered.\n\n'
  printf '| upload | day 1 added | day 2 clustered added | ÷ database | day 2 scattered added | ÷ database |\n|---|---|---|---|---|---|\n'
  row_days 'ours: stop mode copy, `finish` (VACUUM INTO the upload), `offsite` step' "${result[ours_day1]}" "${result[ours_clustered]}" "${result[ours_scattered]}"
  row_days 'plain `restic backup` of the database file as it is (our upload before VACUUM INTO)' "${result[plain_day1]}" "${result[plain_clustered]}" "${result[plain_scattered]}"
  [[ -z "${result[online_day1]:-}" ]] || row_days 'ours, online mode (its snapshot is VACUUM INTO too)' "${result[online_day1]}" "${result[online_clustered]}" "${result[online_scattered]}"
  [[ -z "${result[max_day1]:-}" ]] || row_days 'the compacted file, `restic backup --compression max`' "${result[max_day1]}" "${result[max_clustered]}" "${result[max_scattered]}"
  row_days 'peers: the `.db.gz` archive (pigz -6)' "${result[gz_day1]}" "${result[gz_clustered]}" ''

  local base="${result[plain_day1]%% *}" ours_ms="${result[ours_day1]%% *}"
  printf '\n#### Day-1 upload time (fresh repository each)\n\n'
  printf '| upload | time (s) | MB/s (database size / time) | throughput ÷ plain `restic backup` |\n|---|---|---|---|\n'
  row_time '**baseline**: plain `restic init` + `restic backup tracker.db`' "${result[plain_day1]}" "$base"
  row_time 'ours: the `offsite` step (open or init, backup, forget --prune)' "${result[ours_day1]}" "$base"
  row_time 'ours + the compaction in `finish` (VACUUM INTO, quick_check)' "$((ours_ms + compact))" "$base"
  [[ -z "${result[online_day1]:-}" ]] || row_time 'ours, online mode: the `offsite` step' "${result[online_day1]}" "$base"
  [[ -z "${result[max_day1]:-}" ]] || row_time '`restic backup --compression max`' "${result[max_day1]}" "$base"
  row_time 'peers: `restic backup database.db.gz`' "${result[gz_day1]}" "$base"
  printf '\nThe compaction alone: %s s.\n' "$(secs "$compact")"
  printf '\nTargets: day 2 ≤ 5 %% of the database: clustered %s, scattered %s; day-1 throughput ≥ 0.8 × plain restic: %s × (%s), %s × with the compaction (%s).\n' \
    "$(awk -v a="$(cut -d' ' -f2 <<<"${result[ours_clustered]}")" -v b="$BYTES" 'BEGIN { print (a <= b * 0.05) ? "met" : "NOT met" }')" \
    "$(awk -v a="$(cut -d' ' -f2 <<<"${result[ours_scattered]}")" -v b="$BYTES" 'BEGIN { print (a <= b * 0.05) ? "met" : "NOT met" }')" \
    "$(ratio "$base" "$ours_ms")" "$(awk -v p="$base" -v o="$ours_ms" 'BEGIN { print (p / o >= 0.8) ? "met" : "NOT met" }')" \
    "$(ratio "$base" "$((ours_ms + compact))")" "$(awk -v p="$base" -v o="$((ours_ms + compact))" 'BEGIN { print (p / o >= 0.8) ? "met" : "NOT met" }')"
  printf 'Load after the run: %s.\n' "$(uptime | sed 's/.*load average/load average/')"
}

BENCH_LOAD="$(uptime | sed 's/.*load average/load average/')"
readonly BENCH_LOAD
main "$@"
