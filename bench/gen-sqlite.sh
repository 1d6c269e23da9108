#!/usr/bin/env bash
# gen-sqlite.sh: writes a tracker-like SQLite database of about SIZE_MB megabytes (the
# stand-in tracker's tables: torrents, keys, whitelist; random info hashes, so the file
# compresses like a real tracker's and not like zeros).
# Usage: bench/gen-sqlite.sh SIZE_MB OUTPUT_FILE
set -euo pipefail

# Measured: one torrents row with its unique index costs about 120 bytes on disk.
readonly BYTES_PER_ROW=120

main() {
  local size_mb="$1" out="$2" rows
  [[ "$size_mb" =~ ^[0-9]+$ ]] || { echo "SIZE_MB must be a number" >&2; exit 2; }
  rows=$((size_mb * 1024 * 1024 / BYTES_PER_ROW))
  rm -f -- "$out"
  sqlite3 -bail "$out" >/dev/null <<SQL
PRAGMA journal_mode=DELETE;
PRAGMA cache_size=-1048576;
PRAGMA synchronous=OFF;
CREATE TABLE torrents (id INTEGER PRIMARY KEY, info_hash TEXT NOT NULL UNIQUE, completed INTEGER NOT NULL DEFAULT 0);
CREATE TABLE keys (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, valid_until INTEGER);
CREATE TABLE whitelist (id INTEGER PRIMARY KEY, info_hash TEXT NOT NULL UNIQUE);
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows)
  INSERT INTO torrents (info_hash, completed) SELECT lower(hex(randomblob(20))), abs(random() % 100000) FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows / 50)
  INSERT INTO keys (key, valid_until) SELECT lower(hex(randomblob(16))), strftime('%s', 'now') + abs(random() % 31536000) FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows / 20)
  INSERT INTO whitelist (info_hash) SELECT lower(hex(randomblob(20))) FROM n;
COMMIT;
SQL
}

main "$@"
