#!/usr/bin/env bash
# compression.sh: ratio and throughput of the backup's compressors on a ~1 GB SQLite
# database and on a MySQL dump of similar size, run inside the backup image itself (the
# same gzip, pigz and zstd binaries a backup uses):
#   gzip -6              the guide's gzip, one core
#   pigz -6              our gzip mode until issue 14 (same .gz format, every core; added
#                        to the image for this comparison only)
#   libdeflate-gzip -6   our gzip mode's compressor (same .gz format; one core per 32 MiB
#                        member, backup.sh runs one member per core)
#   zstd -3 -T0          our zstd mode (.zst, every core)
# Decompression speed is what verification (gzip -dc / zstd -dc into cmp) and a restore pay.
#
# Usage: bench/compression.sh [SQLITE_MB] [MYSQL_ROWS]   (default 1000 and 17000000,
#        which gives a dump of about 1 GB)
# Needs: scripts/setup.sh done, root. Prints markdown.
set -euo pipefail
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly IMAGE=tracker-backup-bench:compression
readonly MYSQL_NAME=bench-compression-mysql

# measure FILE: one table row per compressor, timed inside the backup image.
measure() {
  local file="$1" label="$2" bytes line tool compress_ms out_bytes test_ms
  bytes="$(stat -c %s "$file")"
  # Warm the page cache so every tool reads from memory alike.
  cat "$file" >/dev/null
  for tool in "gzip -6|.gz|gzip -t" "pigz -6|.gz|gzip -t" "libdeflate-gzip -6|.gz|gzip -t" "zstd -q -3 -T0|.zst|zstd -q -t"; do
    IFS='|' read -r compressor suffix tester <<<"$tool"
    say "$label: $compressor"
    line="$(docker run --rm --entrypoint bash -v "$(dirname "$file"):/w" "$IMAGE" -c "
      set -e
      s=\$(date +%s%3N); $compressor -c /w/$(basename "$file") > /w/out$suffix; c=\$((\$(date +%s%3N) - s))
      s=\$(date +%s%3N); $tester /w/out$suffix; t=\$((\$(date +%s%3N) - s))
      echo \$c \$(stat -c %s /w/out$suffix) \$t
      rm -f /w/out$suffix")"
    read -r compress_ms out_bytes test_ms <<<"$line"
    # shellcheck disable=SC2016 # backticks are markdown
    printf '| %s | `%s` | %s | %s | %s | %s | %s |\n' "$label" "$compressor" \
      "$(awk -v o="$out_bytes" -v i="$bytes" 'BEGIN { printf "%.3f", o / i }')" \
      "$(secs "$compress_ms")" "$(rate "$bytes" "$compress_ms")" "$(secs "$test_ms")" "$(rate "$bytes" "$test_ms")"
  done
}

mysql_dump() {
  local rows="$1" env deploy
  say "bringing up a MySQL sandbox and loading $rows torrents"
  env="$(sandbox_up "$MYSQL_NAME" --driver mysql)"
  deploy="$(deploy_dir_of "$env")"
  # Server-side generation (MariaDB's sequence engine), the unique index added after the
  # load: minutes instead of hours on two cores. The tables are the stand-in's.
  on_target "$MYSQL_NAME" "docker-compose exec -T mysql mariadb --user=root torrust_tracker -e '
    ALTER TABLE torrents DROP INDEX info_hash;
    INSERT INTO torrents (info_hash, completed) SELECT sha1(seq), seq % 100000 FROM seq_1_to_$rows;
    ALTER TABLE torrents ADD UNIQUE (info_hash);
    INSERT IGNORE INTO whitelist (info_hash) SELECT sha1(concat(\"w\", seq)) FROM seq_1_to_$((rows / 20));'" >&2
  # The same options the backup uses, run by the server's own client as root.
  on_target "$MYSQL_NAME" "docker-compose exec -T mysql sh -c 'mariadb-dump --user=root --single-transaction --quick --routines --triggers --no-tablespaces torrust_tracker > /var/lib/mysql/bench-dump.sql'" >&2
  mv "$deploy/storage/mysql/data/bench-dump.sql" "$WORK/data/mysql-dump.sql"
  sandbox_down "$MYSQL_NAME"
}

main() {
  local sqlite_mb="${1:-1000}" rows="${2:-17000000}"
  mkdir -p "$WORK/data"
  say "building the backup image from roles/tracker_backup/files/lib"
  docker build -q -t "$IMAGE-base" "$REPO_ROOT/roles/tracker_backup/files/lib" >&2
  printf 'FROM %s\nRUN apt-get update && apt-get install -y --no-install-recommends pigz && rm -rf /var/lib/apt/lists/*\n' "$IMAGE-base" \
    | docker build -q -t "$IMAGE" - >&2
  say "generating a $sqlite_mb MB tracker database"
  "$BENCH_DIR/gen-sqlite.sh" "$sqlite_mb" "$WORK/data/tracker.db"
  mysql_dump "$rows"
  printf '## Compression (bench/compression.sh %s %s)\n\n%s\n\n' "$sqlite_mb" "$rows" "$(machine)"
  printf '| input | compressor | size ratio (out / in) | compress (s) | compress MB/s | test (s) | test MB/s |\n|---|---|---|---|---|---|---|\n'
  measure "$WORK/data/tracker.db" "SQLite $(($(stat -c %s "$WORK/data/tracker.db") / 1000000)) MB"
  measure "$WORK/data/mysql-dump.sql" "MySQL dump $(($(stat -c %s "$WORK/data/mysql-dump.sql") / 1000000)) MB"
  docker image rm "$IMAGE" "$IMAGE-base" >/dev/null 2>&1 || true
}

main "$@"
