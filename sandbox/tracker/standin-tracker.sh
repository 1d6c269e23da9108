#!/usr/bin/env bash
#
# STAND-IN for the upstream Torrust tracker (torrust/tracker image), which cannot
# run on these machines. It is NOT a BitTorrent tracker: it only behaves like the
# tracker's database writer, so that backups can be tested against a live,
# constantly written database at the real path.
#
# What it does: creates tracker-like tables (torrents, keys, whitelist) if they
# are missing, then inserts a row into torrents about every 0.2 s until it gets
# SIGINT, on which it exits within a fraction of a second.
#
# Signals, as the upstream image has them: its entry script execs
# `su-exec torrust /usr/bin/torrust-tracker`, so the tracker is PID 1 with no init,
# and its main waits only for Ctrl-C (tokio::signal::ctrl_c, i.e. SIGINT). The
# deployer's compose file sets no `init` and no `stop_signal`. So SIGTERM is ignored
# here too (explicitly; as PID 1 without a handler the kernel would drop it anyway),
# and `docker stop` only ends this container when its grace period runs out and
# Docker sends SIGKILL. Run it as PID 1: no `init: true` in the compose service.
#
# Where it runs: as the entrypoint of tracker-backup-sandbox/tracker, started by
# docker-compose in a sandbox deployment (see scripts/sandbox.sh).
# Needs: bash, sqlite3; mariadb (or mysql) client for DATABASE_DRIVER=mysql.
#
# Environment:
#   DATABASE_DRIVER          sqlite3 (default) or mysql
#   SQLITE_PATH              default /var/lib/torrust/tracker/database/tracker.db
#   MYSQL_HOST, MYSQL_PORT (3306), MYSQL_DATABASE, MYSQL_USER
#   MYSQL_PASSWORD_FILE      file holding the password, read byte for byte (no
#                            newline is stripped); any characters are fine
#   MYSQL_PWD                the password itself, when MYSQL_PASSWORD_FILE is unset
#                            (the password reaches the client only through the
#                            MYSQL_PWD environment variable, never a command line)
#   STANDIN_INTERVAL         seconds between inserts (default 0.2)
#   STANDIN_LOG_EVERY        log a progress line every N inserts (default 50)
set -euo pipefail

DRIVER="${DATABASE_DRIVER:-sqlite3}"
SQLITE_PATH="${SQLITE_PATH:-/var/lib/torrust/tracker/database/tracker.db}"
INTERVAL="${STANDIN_INTERVAL:-0.2}"
LOG_EVERY="${STANDIN_LOG_EVERY:-50}"
STOP=0

log() {
  printf '[%s] INFO: %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$*"
}

warn() {
  printf '[%s] WARN: %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$*" >&2
}

die() {
  printf '[%s] ERROR: %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$*" >&2
  exit 1
}

on_signal() {
  STOP=1
}

# Sleeping in the background and `wait`ing lets the INT trap run at once;
# a foreground sleep would delay it until the sleep ends.
pause() {
  local pid
  sleep "$1" &
  pid=$!
  wait "${pid}" || true
  if ((STOP)); then
    kill "${pid}" 2>/dev/null || true
  fi
}

info_hash_for() {
  local digest
  digest="$(printf 'standin-torrent-%s' "$1" | sha1sum)"
  printf '%s' "${digest%% *}"
}

# ---------------------------------------------------------------------------
# sqlite3 driver
# ---------------------------------------------------------------------------

sqlite() {
  # The busy timeout makes a write wait for a backup's read lock instead of
  # failing at once.
  sqlite3 -batch -bail -cmd '.timeout 5000' "${SQLITE_PATH}" "$@"
}

sqlite3_init() {
  mkdir -p "$(dirname "${SQLITE_PATH}")"
  # Rollback journal (DELETE) like the upstream tracker's default; WAL would
  # change what a file-level backup has to copy.
  sqlite 'PRAGMA journal_mode=DELETE;' >/dev/null
  sqlite <<'SQL'
CREATE TABLE IF NOT EXISTS torrents (
  id INTEGER PRIMARY KEY,
  info_hash TEXT NOT NULL UNIQUE,
  completed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS keys (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  valid_until INTEGER
);
CREATE TABLE IF NOT EXISTS whitelist (
  id INTEGER PRIMARY KEY,
  info_hash TEXT NOT NULL UNIQUE
);
INSERT OR IGNORE INTO keys (key, valid_until) VALUES
  ('standinkey0000000000000000000001', strftime('%s', 'now') + 86400),
  ('standinkey0000000000000000000002', NULL);
INSERT OR IGNORE INTO whitelist (info_hash) VALUES
  ('0000000000000000000000000000000000000001');
SQL
  log "sqlite3 database ready at ${SQLITE_PATH} (journal_mode=delete)"
}

sqlite3_last_id() {
  sqlite 'SELECT COALESCE(MAX(id), 0) FROM torrents;'
}

sqlite3_insert() {
  sqlite "INSERT OR IGNORE INTO torrents (info_hash, completed) VALUES ('$1', $2);"
}

# ---------------------------------------------------------------------------
# mysql driver (HOOK): same schema and inserts through the mariadb/mysql
# client, for a deployment whose tracker uses DATABASE_DRIVER=mysql.
# ---------------------------------------------------------------------------

MYSQL_CLIENT=""

mysql_run() {
  "${MYSQL_CLIENT}" --host="${MYSQL_HOST}" --port="${MYSQL_PORT:-3306}" \
    --user="${MYSQL_USER}" --database="${MYSQL_DATABASE}" \
    --batch --skip-column-names --execute="$1"
}

# Exports MYSQL_PWD from MYSQL_PASSWORD_FILE. The trailing "x" keeps command
# substitution from eating trailing newlines, so the password is exactly the
# file's content. It is never expanded anywhere else than into MYSQL_PWD.
mysql_load_password() {
  local password
  [[ -n "${MYSQL_PASSWORD_FILE:-}" ]] || return 0
  [[ -r "${MYSQL_PASSWORD_FILE}" ]] || die "cannot read MYSQL_PASSWORD_FILE ${MYSQL_PASSWORD_FILE}"
  password="$(cat -- "${MYSQL_PASSWORD_FILE}" && printf x)" || die "cannot read MYSQL_PASSWORD_FILE ${MYSQL_PASSWORD_FILE}"
  export MYSQL_PWD="${password%x}"
}

mysql_init() {
  local var err="" waited=0
  for var in MYSQL_HOST MYSQL_DATABASE MYSQL_USER; do
    [[ -n "${!var:-}" ]] || die "DATABASE_DRIVER=mysql needs ${var}"
  done
  mysql_load_password
  if command -v mariadb >/dev/null 2>&1; then
    MYSQL_CLIENT="mariadb"
  elif command -v mysql >/dev/null 2>&1; then
    MYSQL_CLIENT="mysql"
  else
    die "DATABASE_DRIVER=mysql needs the mariadb or mysql client"
  fi

  # The database container usually starts at the same time as the tracker.
  until err="$(mysql_run 'SELECT 1;' 2>&1 >/dev/null)"; do
    ((STOP)) && exit 0
    ((waited < 120)) || die "MySQL at ${MYSQL_HOST}:${MYSQL_PORT:-3306} not usable after ${waited}s: ${err}"
    pause 1
    waited=$((waited + 1))
  done

  # `keys` and `key` are reserved words in MySQL, hence the backticks.
  mysql_run "
CREATE TABLE IF NOT EXISTS torrents (
  id INTEGER PRIMARY KEY AUTO_INCREMENT,
  info_hash VARCHAR(40) NOT NULL UNIQUE,
  completed INTEGER NOT NULL DEFAULT 0
) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS \`keys\` (
  id INTEGER PRIMARY KEY AUTO_INCREMENT,
  \`key\` VARCHAR(32) NOT NULL UNIQUE,
  valid_until BIGINT
) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS whitelist (
  id INTEGER PRIMARY KEY AUTO_INCREMENT,
  info_hash VARCHAR(40) NOT NULL UNIQUE
) ENGINE=InnoDB;
INSERT IGNORE INTO \`keys\` (\`key\`, valid_until) VALUES
  ('standinkey0000000000000000000001', UNIX_TIMESTAMP() + 86400),
  ('standinkey0000000000000000000002', NULL);
INSERT IGNORE INTO whitelist (info_hash) VALUES
  ('0000000000000000000000000000000000000001');"
  log "mysql database ${MYSQL_DATABASE} ready at ${MYSQL_HOST}:${MYSQL_PORT:-3306}"
}

mysql_last_id() {
  mysql_run 'SELECT COALESCE(MAX(id), 0) FROM torrents;'
}

mysql_insert() {
  mysql_run "INSERT IGNORE INTO torrents (info_hash, completed) VALUES ('$1', $2);"
}

# ---------------------------------------------------------------------------

main() {
  local counter inserted=0 failed=0

  case "${DRIVER}" in
    sqlite3 | mysql) ;;
    *) die "unsupported DATABASE_DRIVER: ${DRIVER} (expected sqlite3 or mysql)" ;;
  esac

  # SIGINT only, like the real tracker; SIGTERM (docker stop's signal) is ignored.
  trap '' TERM
  trap on_signal INT
  log "stand-in tracker starting (driver ${DRIVER}); this is NOT the real Torrust tracker"
  "${DRIVER}_init"

  # Continue after the highest existing id so a restarted stand-in keeps
  # producing new info hashes.
  counter="$("${DRIVER}_last_id")"

  while ((!STOP)); do
    counter=$((counter + 1))
    # A failed insert (e.g. the database stayed locked past the busy timeout
    # during a backup) is logged and retried with the next row; the real
    # tracker also keeps serving when a statistics write fails.
    if "${DRIVER}_insert" "$(info_hash_for "${counter}")" "$((RANDOM % 1000))"; then
      inserted=$((inserted + 1))
      if ((inserted % LOG_EVERY == 0)); then
        log "inserted ${inserted} torrents since start (counter ${counter})"
      fi
    else
      failed=$((failed + 1))
      warn "insert ${counter} failed (${failed} failures so far)"
    fi
    ((STOP)) && break
    pause "${INTERVAL}"
  done

  log "signal received, stopping after ${inserted} inserts"
}

main "$@"
