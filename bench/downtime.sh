#!/usr/bin/env bash
# Commands in single quotes run in the target, where they expand; markdown has backticks.
# shellcheck disable=SC2016
# downtime.sh: tracker downtime, total time and throughput of one SQLite backup, ours
# (stop and online mode, gzip and zstd) against the guide's way (stop the tracker,
# sqlite3 .backup, gzip, start) and the physical floor (read the file once; cp it),
# on a sandbox target with generated databases of about 10 MB and 1 GB.
#
# Usage: bench/downtime.sh [SIZE_MB...]      (default: 10 1000)
# Environment: BENCH_RUNS_SMALL (default 3) runs per method below 100 MB, BENCH_RUNS_LARGE
# (default 1) at or above; the table shows the median. The page cache is warm for every
# method alike (the database is read once before the first measurement).
# BENCH_ROWS: which of our runs to measure, comma-separated (default
# "stop gzip,stop zstd,online gzip,online zstd"). BENCH_HOST_SH: a host.sh installed on
# the target after provisioning, to measure an older stop, e.g. the one before issue 10 §5:
#   git show 3ce011b:roles/tracker_backup/files/lib/host.sh >/tmp/host-before.sh
#   BENCH_HOST_SH=/tmp/host-before.sh bench/downtime.sh 10 1000
# BENCH_BEFORE: a git revision; a row with a third word "before" ("stop gzip before") then
# runs with the backup image built from roles/tracker_backup/files/lib at that revision,
# against the same baseline in the same run, e.g. the gzip pipeline before issue 14:
#   BENCH_BEFORE=91cfc19 BENCH_ROWS="stop gzip before,stop gzip,stop zstd" bench/downtime.sh 10 1000
# Needs what the sandbox needs (scripts/setup.sh), run as root. Prints markdown.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly NAME=bench-downtime
DB=storage/tracker/lib/database/tracker.db
# Run in the target after a start: returns once the tracker's container runs.
readonly WAIT_RUNNING='until [ "$(docker inspect -f "{{.State.Running}}" $(docker-compose ps -q tracker))" = true ]; do sleep 0.1; done'

# The stand-in's container start time: unchanged means the tracker never stopped.
tracker_started_at() {
  on_target "$NAME" 'docker inspect -f "{{.State.StartedAt}}" $(docker-compose ps -q tracker)'
}

wait_running() {
  on_target "$NAME" "$WAIT_RUNNING"
}

clear_backups() {
  on_target "$NAME" 'rm -f storage/backup/sqlite/* storage/backup/config/* storage/backup/manifests/* storage/backup/bench*'
}

floor_read() { timed_on_target "$NAME" "cat $DB >/dev/null"; }

floor_cp() {
  local ms
  ms="$(timed_on_target "$NAME" "cp $DB storage/backup/bench-copy.db")"
  on_target "$NAME" 'rm -f storage/backup/bench-copy.db'
  echo "$ms"
}

stop_start() {
  timed_on_target "$NAME" "docker-compose stop tracker >/dev/null 2>&1 && docker-compose start tracker >/dev/null 2>&1 && $WAIT_RUNNING"
}

# What the maintenance script did before issue 10 §5: the same containers, by id, without
# a compose client, stopped with docker stop (SIGTERM, which torrust/tracker ignores).
stop_start_docker() {
  on_target "$NAME" 'ids=$(docker-compose ps -q tracker); start=$(date +%s%3N); docker stop $ids >/dev/null && docker start $ids >/dev/null && until [ "$(docker inspect -f "{{.State.Running}}" $ids)" = true ]; do sleep 0.1; done; echo $(($(date +%s%3N) - start))'
}

# What it does now: the tracker's own signal (SIGINT), then a poll until it has exited.
signal_start_docker() {
  signal_start "$NAME"
}

# The guide's manual procedure, everything while the tracker is stopped.
baseline() {
  local ms
  ms="$(timed_on_target "$NAME" "set -e
    docker-compose stop tracker >/dev/null 2>&1
    sqlite3 $DB '.backup storage/backup/bench.db'
    gzip storage/backup/bench.db
    docker-compose start tracker >/dev/null 2>&1
    $WAIT_RUNNING")"
  clear_backups
  echo "$ms"
}

# Inserts the stand-in logged as failed since a docker timestamp (its busy timeout is 5 s:
# a write that waited longer for a backup's lock is dropped and logged).
failed_writes() {
  on_target "$NAME" "docker logs --since '$1' \$(docker-compose ps -q tracker) 2>&1 | grep -c 'WARN: insert .* failed' || true"
}

readonly BEFORE_IMAGE=tracker-backup-bench:before
AFTER_IMAGE=""

# use_image IMAGE: the target's backup service runs IMAGE from now on (its compose file
# is on this machine, in the deploy directory).
use_image() {
  sed -i "s|^\( *image: \)\"tracker-backup[^\"]*\"\$|\1\"$1\"|" "$DEPLOY/docker-compose.backup.yml"
  grep -q "image: \"$1\"" "$DEPLOY/docker-compose.backup.yml" || die "could not set the backup image to $1"
}

# The backup image of files/lib at BENCH_BEFORE, built once; AFTER_IMAGE is the one the
# role built.
build_before_image() {
  mkdir -p "$WORK/before"
  git -C "$REPO_ROOT" archive "$BENCH_BEFORE" roles/tracker_backup/files/lib | tar -x -C "$WORK/before"
  # As the role installs the build context: every file 0755.
  chmod 0755 "$WORK/before/roles/tracker_backup/files/lib"/*
  docker build -q -t "$BEFORE_IMAGE" "$WORK/before/roles/tracker_backup/files/lib" >&2
  AFTER_IMAGE="$(sed -n 's/^ *image: "\(tracker-backup:[0-9a-f]*\)"$/\1/p' "$DEPLOY/docker-compose.backup.yml" | head -n 1)"
  [[ -n "$AFTER_IMAGE" ]] || die "no tracker-backup image in the target's docker-compose.backup.yml"
}

# A backup container that does nothing, started as a run starts its finish step: what
# compose and the container cost whatever the database's size.
container_start() {
  timed_on_target "$NAME" 'docker-compose --profile backup run --rm -T --entrypoint true backup >/dev/null 2>&1'
}

# ours MODE COMPRESSION [before]: prints "total_ms downtime_ms failed_writes".
ours() {
  local mode="$1" compression="$2" variant="${3:-}" total status downtime before after since
  [[ -z "$variant" ]] || use_image "$BEFORE_IMAGE"
  on_target "$NAME" "sed -i 's/^MODE=.*/MODE=$mode/; s/^COMPRESSION=.*/COMPRESSION=$compression/' storage/backup/etc/backup.conf"
  since="$(date -u +%Y-%m-%dT%H:%M:%S)"
  before="$(tracker_started_at)"
  total="$(timed_on_target "$NAME" '/usr/local/bin/maintenance-backup.sh >> /var/log/tracker-backup.log 2>&1')"
  after="$(tracker_started_at)"
  [[ -z "$variant" ]] || use_image "$AFTER_IMAGE"
  status="$(on_target "$NAME" 'cat storage/backup/status.json')"
  [[ "$(jq -r .result <<<"$status")" == success ]] || die "backup ($mode, $compression) failed: $status"
  downtime="$(jq -r '.tracker_downtime_seconds * 1000 | floor' <<<"$status")"
  if [[ "$mode" == online && "$before" != "$after" ]]; then
    die "online mode restarted the tracker ($before -> $after)"
  fi
  clear_backups
  echo "$total $downtime $(failed_writes "$since")"
}

bench_size() {
  local size="$1" runs bytes read cp stopstart stopstart_docker signalstart container base limit total down dropped row label mode compression variant
  runs="${BENCH_RUNS_SMALL:-3}"
  ((size < 100)) || runs="${BENCH_RUNS_LARGE:-1}"
  say "generating a ${size} MB tracker database"
  on_target "$NAME" 'docker-compose stop tracker >/dev/null 2>&1'
  "$BENCH_DIR/gen-sqlite.sh" "$size" "$DEPLOY/$DB"
  on_target "$NAME" 'docker-compose start tracker >/dev/null 2>&1'
  wait_running
  bytes="$(stat -c %s "$DEPLOY/$DB")"
  on_target "$NAME" "cat $DB >/dev/null"

  say "$size MB: floor, stop/start and baseline ($runs run(s) each)"
  read="$(repeat "$runs" floor_read)"
  cp="$(repeat "$runs" floor_cp)"
  stopstart="$(repeat "$runs" stop_start)"
  stopstart_docker="$(repeat "$runs" stop_start_docker)"
  signalstart="$(repeat "$runs" signal_start_docker)"
  container="$(repeat "$runs" container_start)"
  base="$(repeat "$runs" baseline)"
  limit="$(awk -v cp="$cp" -v ss="$stopstart" 'BEGIN { printf "%d", 1.2 * cp + ss }')"

  printf '\n### SQLite, %s MB database (%s bytes), median of %s run(s)\n\n' "$size" "$bytes" "$runs"
  printf '| method | tracker down (s) | total (s) | MB/s (db size / total) | total ÷ baseline | stand-in writes dropped |\n|---|---|---|---|---|---|\n'
  printf '| floor: `cat db > /dev/null` | - | %s | %s | %s | - |\n' "$(secs "$read")" "$(rate "$bytes" "$read")" "$(ratio "$read" "$base")"
  printf '| floor: `cp db` | - | %s | %s | %s | - |\n' "$(secs "$cp")" "$(rate "$bytes" "$cp")" "$(ratio "$cp" "$base")"
  printf '| stand-in `compose stop` + `start` | %s | %s | - | - | - |\n' "$(secs "$stopstart")" "$(secs "$stopstart")"
  printf '| stand-in `docker stop` + `start` (by id, as our script did before) | %s | %s | - | - | - |\n' "$(secs "$stopstart_docker")" "$(secs "$stopstart_docker")"
  printf '| stand-in `docker kill --signal SIGINT` + `start` (by id, as our script does) | %s | %s | - | - | - |\n' "$(secs "$signalstart")" "$(secs "$signalstart")"
  printf '| a backup container doing nothing (`compose run --rm --entrypoint true backup`) | - | %s | - | %s | - |\n' "$(secs "$container")" "$(ratio "$container" "$base")"
  printf '| **baseline** (guide: stop, `sqlite3 .backup`, `gzip`, start) | %s | %s | %s | 1.00 | - |\n' "$(secs "$base")" "$(secs "$base")" "$(rate "$bytes" "$base")"
  local -a verdicts=() rows=()
  local -A totals=()
  IFS=, read -ra rows <<<"${BENCH_ROWS:-stop gzip,stop zstd,online gzip,online zstd}"
  for row in "${rows[@]}"; do
    say "$size MB: ours, $row"
    # shellcheck disable=SC2086 # its words are the arguments
    read -r total down dropped <<<"$(repeat "$runs" ours $row)"
    read -r mode compression variant <<<"$row"
    label="$mode mode, $compression${variant:+ (before: backup image of $BENCH_BEFORE)}"
    printf '| ours: %s | %s | %s | %s | %s | %s |\n' "$label" "$(secs "$down")" "$(secs "$total")" "$(rate "$bytes" "$total")" "$(ratio "$total" "$base")" "$dropped"
    if [[ "$row" == stop* ]]; then
      verdicts+=("$row: downtime $(secs "$down") s vs limit 1.2 × cp + compose stop/start = $(secs "$limit") s ($(ratio "$down" "$limit") of the limit): $( ((down <= limit)) && echo met || echo NOT met); against docker stop/start instead the limit is $(secs "$((limit - stopstart + stopstart_docker))") s ($(ratio "$down" "$((limit - stopstart + stopstart_docker))")), against SIGINT/start $(secs "$((limit - stopstart + signalstart))") s ($(ratio "$down" "$((limit - stopstart + signalstart))"))")
    else
      verdicts+=("$row: downtime $(secs "$down") s: $( ((down == 0)) && echo met || echo NOT met)")
    fi
    verdicts+=("$row: total $(ratio "$total" "$base") × baseline (target ≤ 0.50): $(awk -v t="$total" -v b="$base" 'BEGIN { print (t <= b / 2) ? "met" : "NOT met" }')")
    totals["$row"]="$total"
  done
  for row in "${rows[@]}"; do
    [[ "$row" == *' before' && -n "${totals[${row% before}]:-}" ]] || continue
    verdicts+=("${row% before}: total after ÷ before $(ratio "${totals[${row% before}]}" "${totals[$row]}"); beyond a container doing nothing: $(secs "$((totals[$row] - container))") s before, $(secs "$((totals[${row% before}] - container))") s after ($(ratio "$((totals[${row% before}] - container))" "$((totals[$row] - container))"))")
  done
  printf '\nTargets at %s MB:\n\n' "$size"
  printf -- '- %s\n' "${verdicts[@]}"
}

main() {
  local size
  local -a sizes=("$@")
  ((${#sizes[@]} > 0)) || sizes=(10 1000)
  provisioned_target "$NAME"
  printf '## Downtime and throughput (bench/downtime.sh %s)\n\n%s\n' "${sizes[*]}" "$(machine)"
  if [[ -n "${BENCH_BEFORE:-}" ]]; then
    build_before_image
    printf '\nRows marked "before" ran the backup image of roles/tracker_backup/files/lib at %s (%s), the others the one the role built (%s).\n' \
      "$BENCH_BEFORE" "$(git -C "$REPO_ROOT" log -1 --format='%h %s' "$BENCH_BEFORE" | cut -c1-60)" "$AFTER_IMAGE"
  fi
  if [[ -n "${BENCH_HOST_SH:-}" ]]; then
    [[ -f "$BENCH_HOST_SH" ]] || die "BENCH_HOST_SH: no file $BENCH_HOST_SH"
    docker cp "$BENCH_HOST_SH" "tbsandbox-$NAME:/usr/local/lib/tracker-backup/host.sh"
    on_target "$NAME" 'chown root:root /usr/local/lib/tracker-backup/host.sh && chmod 0644 /usr/local/lib/tracker-backup/host.sh'
    printf '\nhost.sh on the target replaced after provisioning by %s (sha256 %s).\n' "$BENCH_HOST_SH" "$(sha256sum "$BENCH_HOST_SH" | cut -c1-16)"
  fi
  printf '\nStand-in tracker: %s, %s; PID 1 is `%s`.\n' \
    "$(on_target "$NAME" 'docker inspect -f "init {{if .HostConfig.Init}}{{.HostConfig.Init}}{{else}}none{{end}}" $(docker-compose ps -q tracker)')" \
    "$(on_target "$NAME" 'docker inspect -f "stop signal {{if .Config.StopSignal}}{{.Config.StopSignal}}{{else}}SIGTERM (default){{end}}" $(docker-compose ps -q tracker)')" \
    "$(on_target "$NAME" 'docker exec $(docker-compose ps -q tracker) cat /proc/1/cmdline | tr "\\0" " " | sed "s/ $//"')"
  for size in "${sizes[@]}"; do
    bench_size "$size"
  done
}

main "$@"
