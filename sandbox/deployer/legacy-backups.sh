#!/usr/bin/env bash
# SANDBOX FIXTURE: fills storage/backup/ with what a Torrust Tracker Deployer v0.1.0 host
# has after some days of backups: {sqlite,mysql,config}/<kind>_YYYYMMDD_HHMMSS.<ext>.gz,
# mode 0644, no manifests, each file's mtime its name's time (the deployer prunes by
# mtime). The database backups are real copies of the live database (an SQLite online
# backup, or a dump of the MySQL database with its completion line); the config archives
# hold data/storage/... paths, as the deployer's container archives them from /data.
#
# Usage: legacy-backups.sh DEPLOY_DIR sqlite3|mysql [MYSQL_CONTAINER [DATABASE]]
# Backups are dated 1, 3, 10 and 20 days ago at 03:00:00 UTC: with the deployer's
# 7-day retention, the last two are past it. Does nothing when a legacy backup is there.
set -euo pipefail
umask 022

deploy="$1" driver="$2" container="${3:-}" database="${4:-torrust_tracker}"
backups="$deploy/storage/backup"
case "$driver" in
  sqlite3) kind=sqlite ext=db ;;
  mysql) kind=mysql ext=sql ;;
  *) echo "legacy-backups.sh: unknown driver $driver" >&2; exit 2 ;;
esac
mkdir -p "$backups/$kind" "$backups/config"
if compgen -G "$backups/$kind/${kind}_*.$ext.gz" >/dev/null; then
  exit 0
fi

scratch="$(mktemp -d)"
trap 'rm -rf -- "$scratch"' EXIT

# One copy of the live database, reused for every date.
if [[ "$driver" == sqlite3 ]]; then
  sqlite3 -cmd '.timeout 5000' "$deploy/storage/tracker/lib/database/tracker.db" ".backup '$scratch/database'"
else
  docker exec "$container" mariadb-dump --user=root --single-transaction --quick -- "$database" >"$scratch/database"
  tail -n 1 "$scratch/database" | grep -q '^-- Dump completed' || { echo "legacy-backups.sh: incomplete dump" >&2; exit 1; }
fi

paths=()
for path in storage/tracker/etc/tracker.toml storage/prometheus/etc/prometheus.yml storage/grafana/provisioning; do
  [[ -e "$deploy/$path" ]] && paths+=("$path")
done

for days in 1 3 10 20; do
  when="$(date -u -d "$days days ago" '+%Y-%m-%d 03:00:00')"
  stamp="$(date -u -d "$when" '+%Y%m%d_%H%M%S')"
  gzip -c "$scratch/database" >"$backups/$kind/${kind}_$stamp.$ext.gz"
  tar -czf "$backups/config/config_$stamp.tar.gz" -C "$deploy" --transform 's,^storage/,data/storage/,' -- "${paths[@]}"
  touch -d "$when UTC" "$backups/$kind/${kind}_$stamp.$ext.gz" "$backups/config/config_$stamp.tar.gz"
done
